"""Models and losses: every registered model builds and runs in both impls, which start equal;
the hand-written pieces match torch's."""

from __future__ import annotations

import math

import pytest
import torch

from dltool.config import load_registries
from dltool.models import build_loss, scratch_ops
from dltool.models.build import HalfMSELoss
from dltool.registry import MODELS

load_registries()

INPUT_SHAPES = {"regression": (5,), "classification": (1, 32, 32)}  # densenet needs >= 29x29
# the toy objectives' "model" is the point itself, started where the notes start: tested in test_toys.py
LAYER_MODELS = [name for name in MODELS.names() if MODELS.get(name).traits.task in INPUT_SHAPES]


def build(name: str, impl: str, seed: int = 0) -> torch.nn.Module:
    entry = MODELS.get(name)
    task = entry.traits.task
    outputs = 1 if task == "regression" else 10
    options = entry.options().model_dump()
    return entry.builder(
        impl=impl,
        input_shape=INPUT_SHAPES[task],
        num_outputs=outputs,
        generator=torch.Generator().manual_seed(seed),
        **options,
    )


@pytest.mark.parametrize("name", LAYER_MODELS)
def test_both_impls_start_from_the_same_parameters_and_agree(name):
    """Same seed -> same initial function in both impls, so scratch vs torch curves are comparable."""
    task = MODELS.get(name).traits.task
    x = torch.rand(8, *INPUT_SHAPES[task], generator=torch.Generator().manual_seed(1))
    outputs = {}
    for impl in ("scratch", "torch"):
        model = build(name, impl)
        model.eval()
        outputs[impl] = model(x)
        assert outputs[impl].shape == (8, 1 if task == "regression" else 10)
    torch.testing.assert_close(outputs["scratch"], outputs["torch"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", LAYER_MODELS)
def test_init_depends_on_the_seed(name):
    a, b = build(name, "scratch", seed=0), build(name, "scratch", seed=1)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_scratch_linear_init_follows_the_notes():
    model = build("linreg", "scratch")
    assert model.bias.abs().sum() == 0
    wide = MODELS.get("mlp").builder(
        impl="scratch",
        input_shape=(1, 28, 28),
        num_outputs=10,
        generator=torch.Generator().manual_seed(0),
        hidden=[256],
    )
    weight = wide.layers[0].weight
    assert weight.shape == (784, 256)  # 28x28 input
    assert weight.std().item() == pytest.approx(0.01, rel=0.02) and abs(weight.mean().item()) < 1e-3


def test_mlp_hidden_sizes_are_configurable():
    model = MODELS.get("mlp").builder(
        impl="torch",
        input_shape=(1, 28, 28),
        num_outputs=10,
        generator=torch.Generator().manual_seed(0),
        hidden=[64, 32],
    )
    sizes = [m.out_features for m in model if isinstance(m, torch.nn.Linear)]
    assert sizes == [64, 32, 10]


def test_stable_cross_entropy_matches_torch_where_the_naive_one_overflows():
    """The notes warn that exp(o) overflows; logits of 1000 must still give torch's answer."""
    logits = torch.tensor([[1000.0, 0.0, -5.0], [3.0, 1000.0, 999.0], [0.1, 0.2, 0.3]])
    labels = torch.tensor([0, 2, 1])
    naive = -(logits.exp() / logits.exp().sum(1, keepdim=True)).gather(1, labels.view(-1, 1)).log().mean()
    assert not math.isfinite(naive.item())
    expected = torch.nn.functional.cross_entropy(logits, labels)
    torch.testing.assert_close(scratch_ops.cross_entropy(logits, labels), expected)


def test_cross_entropy_gradient_matches_torch():
    logits = torch.randn(16, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    labels = torch.arange(16) % 10
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    scratch_ops.cross_entropy(a, labels).backward()
    torch.nn.functional.cross_entropy(b, labels).backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_relu_and_squared_loss_match_torch():
    x = torch.randn(100, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(scratch_ops.relu(x), torch.relu(x))
    y_hat, y = torch.randn(20, 1), torch.randn(20)
    torch.testing.assert_close(scratch_ops.squared_loss(y_hat, y), HalfMSELoss()(y_hat, y))
    assert scratch_ops.squared_loss(torch.tensor([[3.0]]), torch.tensor([1.0])).item() == 2.0  # (3-1)^2/2


@pytest.mark.parametrize(
    "task, impl",
    [("regression", "scratch"), ("regression", "torch"), ("classification", "scratch"), ("classification", "torch")],
)
def test_losses_are_batch_means(task, impl):
    loss = build_loss(task, impl)
    if task == "regression":
        y_hat, y = torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 0.0])
        assert loss(y_hat, y).item() == pytest.approx((0.5 + 4.5) / 2)
    else:
        logits, y = torch.zeros(4, 10), torch.zeros(4, dtype=torch.long)
        assert loss(logits, y).item() == pytest.approx(math.log(10))
