"""The conv nets of the notes: scratch BatchNorm against torch's, the notes' printed shapes, both impls
interchangeable, and every model trainable."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import dltool.models.densenet  # noqa: F401  (importing registers the models)
import dltool.models.lenet  # noqa: F401
import dltool.models.resnet  # noqa: F401
from dltool.errors import UsageError
from dltool.models.batchnorm import BatchNorm, load_state_across_impls_
from dltool.models.densenet import DenseBlock, DenseNet, transition_block
from dltool.models.resnet import Residual
from dltool.registry import MODELS

CNN_MODELS = ["lenet_bn", "resnet18", "densenet"]
IMPLS = ["scratch", "torch"]


def build(name, impl, input_shape, num_outputs=10, seed=0, **options):
    entry = MODELS.get(name)
    options = entry.options.model_validate(options).model_dump()
    generator = torch.Generator().manual_seed(seed)
    return entry.builder(impl=impl, input_shape=input_shape, num_outputs=num_outputs, generator=generator, **options)


def close(a, b, tol=1e-5):
    torch.testing.assert_close(a, b, atol=tol, rtol=tol)


# --- scratch BatchNorm against nn.BatchNorm1d / nn.BatchNorm2d -------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6)], ids=["2d-input", "4d-input"])
def test_scratch_batchnorm_matches_torch(shape):
    gen = torch.Generator().manual_seed(0)
    C = shape[1]
    ours = BatchNorm(C, num_dims=len(shape)).double()
    ref = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(C).double()
    with torch.no_grad():  # non-trivial gamma and beta, so their gradients and effect are tested too
        gamma, beta = torch.rand(C, generator=gen, dtype=torch.float64) + 0.5, torch.randn(C, generator=gen)
        for g, b in ((ours.gamma, ours.beta), (ref.weight, ref.bias)):
            g.copy_(gamma)
            b.copy_(beta)
    # eval first (untrained statistics), then several training batches, then eval on the moving averages
    dims = (0,) if len(shape) == 2 else (0, 2, 3)
    m = math.prod(shape) // C  # values per channel
    for step, training in enumerate([False, True, True, True, False, False]):
        if not training:  # predict with the same moving variance: the formula is what is compared here
            ref.running_var.copy_(ours.moving_var)
        before = ours.moving_var.clone(), ref.running_var.clone()
        X = torch.randn(shape, generator=gen, dtype=torch.float64) * (step + 1) + step
        grad_out = torch.randn(shape, generator=gen, dtype=torch.float64)
        results = []
        for module in (ours, ref):
            module.train(training)
            module.zero_grad()
            x = X.clone().requires_grad_()
            y = module(x)
            y.backward(grad_out)
            results.append((y, x.grad))
        (y_ours, dx_ours), (y_ref, dx_ref) = results
        close(y_ours, y_ref)
        close(dx_ours, dx_ref)
        close(ours.gamma.grad, ref.weight.grad)
        close(ours.beta.grad, ref.bias.grad)
        close(ours.moving_mean, ref.running_mean)
        # The notes update the moving variance with the biased batch variance, nn.BatchNorm with the
        # unbiased one: each update's batch term differs by the factor m / (m - 1).
        biased = X.var(dim=dims, unbiased=False)
        close(ours.moving_var, 0.9 * before[0] + 0.1 * biased if training else before[0])
        close(ref.running_var, 0.9 * before[1] + 0.1 * biased * m / (m - 1) if training else before[1])


def test_scratch_batchnorm_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match="more than 1 value"):
        BatchNorm(4, num_dims=2)(torch.randn(1, 4))
    with pytest.raises(ValueError, match="num_dims=4"):
        BatchNorm(4, num_dims=4)(torch.randn(3, 4))
    assert set(BatchNorm(4, num_dims=4).state_dict()) == {"gamma", "beta", "moving_mean", "moving_var"}


# --- the notes' printed shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_resnet18_shapes_of_the_notes(impl):
    net = build("resnet18", impl, (1, 224, 224))
    X = net.stem[0](torch.rand(1, 1, 224, 224))
    assert list(X.shape) == [1, 64, 112, 112]
    X = net.stem[1:](X)
    assert list(X.shape) == [1, 64, 56, 56]
    shapes = []
    for stage in net.stages:
        X = stage(X)
        shapes.append(list(X.shape))
    assert shapes == [[1, 64, 56, 56], [1, 128, 28, 28], [1, 256, 14, 14], [1, 512, 7, 7]]
    assert list(net.head(X).shape) == [1, 10]


@pytest.mark.parametrize("impl", IMPLS)
def test_residual_block_shapes_of_the_notes(impl):
    X = torch.rand(4, 3, 6, 6)
    assert list(Residual(3, 3, impl=impl)(X).shape) == [4, 3, 6, 6]
    assert list(Residual(3, 6, impl=impl, use_1x1conv=True, stride=2)(X).shape) == [4, 6, 3, 3]


@pytest.mark.parametrize("impl", IMPLS)
def test_dense_block_and_transition_shapes_of_the_notes(impl):
    blk = DenseBlock(2, 3, 10, impl=impl)
    Y = blk(torch.rand(4, 3, 8, 8))
    assert blk.out_channels == 23 and list(Y.shape) == [4, 23, 8, 8]
    assert list(transition_block(23, 10, impl=impl)(Y).shape) == [4, 10, 4, 4]


def test_densenet_shapes_at_96_and_refusal_at_28():
    net = build("densenet", "torch", (1, 96, 96))
    X = net.body(net.stem(torch.rand(1, 1, 96, 96)))
    assert list(X.shape) == [1, 248, 3, 3]  # 64 -> 192 -> 96 -> 224 -> 112 -> 240 -> 120 -> 248 channels
    assert list(net.head(X).shape) == [1, 10]
    # The notes' network cannot take 28x28 with 4 blocks (the last transition pools 1x1 to 0x0);
    # the builder says so up front instead of failing mid-forward.
    with pytest.raises(RuntimeError):
        DenseNet(1, 10, 32, [4, 4, 4, 4], 64, "torch").eval()(torch.rand(1, 1, 28, 28))
    with pytest.raises(UsageError, match="at least 29x29"):
        build("densenet", "torch", (1, 28, 28))
    assert build("densenet", "torch", (1, 28, 28), blocks=[4, 4, 4])(torch.rand(2, 1, 28, 28)).shape == (2, 10)


# --- LeNet with batch norm --------------------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("side, flat", [(28, 16 * 4 * 4), (32, 16 * 5 * 5)])
def test_lenet_bn_shapes(impl, side, flat):
    net = build("lenet_bn", impl, (1, side, side))
    first_linear = next(m for m in net if isinstance(m, nn.Linear))
    assert first_linear.in_features == flat  # follows the (resized) input
    assert list(net(torch.rand(5, 1, side, side)).shape) == [5, 10]


def test_lenet_bn_refuses_too_small_input():
    with pytest.raises(UsageError, match="too small"):
        build("lenet_bn", "torch", (1, 12, 12))


def test_lenet_bn_impls_agree_in_train_and_eval():
    """Same seed -> same weights; then the same outputs through training steps and in eval mode."""
    scratch, ref = build("lenet_bn", "scratch", (1, 28, 28)), build("lenet_bn", "torch", (1, 28, 28))
    for a, b in zip(scratch.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    opts = [torch.optim.SGD(m.parameters(), lr=0.5) for m in (scratch, ref)]
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        X, y = torch.rand(16, 1, 28, 28, generator=gen), torch.randint(0, 10, (16,), generator=gen)
        outs = []
        for model, opt in zip((scratch, ref), opts):
            model.train()
            out = model(X)
            opt.zero_grad()
            F.cross_entropy(out, y).backward()
            opt.step()
            outs.append(out)
        close(*outs)
    # the moving variances differ by the notes' biased update (test_scratch_batchnorm_matches_torch):
    # with scratch's statistics, the two predict alike
    load_state_across_impls_(ref, scratch)
    X = torch.rand(8, 1, 28, 28, generator=gen)
    close(scratch.eval()(X), ref.eval()(X))


@pytest.mark.parametrize("direction", ["torch->scratch", "scratch->torch"])
def test_trained_state_moves_between_impls(direction):
    src_impl, dst_impl = direction.split("->")
    src = build("lenet_bn", src_impl, (1, 28, 28), seed=1)
    dst = build("lenet_bn", dst_impl, (1, 28, 28), seed=2)
    opt = torch.optim.SGD(src.parameters(), lr=0.5)
    gen = torch.Generator().manual_seed(3)
    for _ in range(2):  # move gamma, beta and the running statistics away from their initial values
        opt.zero_grad()
        F.cross_entropy(src(torch.rand(16, 1, 28, 28, generator=gen)), torch.randint(0, 10, (16,))).backward()
        opt.step()
    load_state_across_impls_(dst, src)
    X = torch.rand(8, 1, 28, 28, generator=gen)
    close(dst.eval()(X), src.eval()(X))


# --- every model, through the registry -------------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("side", [28, 96])
@pytest.mark.parametrize("name", CNN_MODELS)
def test_registry_model_takes_one_finite_sgd_step(name, side, impl):
    if name == "densenet" and side == 28:
        with pytest.raises(UsageError):
            build(name, impl, (1, side, side))
        return
    model = build(name, impl, (1, side, side))
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(2, 1, side, side, generator=gen), torch.tensor([0, 1])
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    assert torch.isfinite(loss)
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("name", CNN_MODELS)
def test_seed_decides_init_and_both_impls_start_equal(name):
    shape = (1, 96, 96)
    a, b = build(name, "scratch", shape, seed=5), build(name, "torch", shape, seed=5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=0, rtol=0)
    c = build(name, "torch", shape, seed=6)
    assert not all(torch.equal(p, q) for p, q in zip(b.parameters(), c.parameters()))


def two_class_images(n, side, seed=0):
    """Noise plus a faint patch, top-left for class 1, bottom-right for class 0: learnable in a few steps."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = torch.randn(n, 1, side, side, generator=gen)
    q = side // 4
    X[y == 1, :, q : 2 * q, q : 2 * q] += 0.5
    X[y == 0, :, -2 * q : -q, -2 * q : -q] += 0.5
    return X, y


# Small inputs keep this cheap on a CPU: ResNet takes any size; the default DenseNet needs a side >= 29.
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name, side", [("resnet18", 16), ("densenet", 32)])
def test_loss_falls_with_adam(name, side, impl):
    X, y = two_class_images(16, side)
    model = build(name, impl, (1, side, side), num_outputs=2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(20):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5, losses
