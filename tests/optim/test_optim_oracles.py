"""Oracle tests for the hand-written optimizers in dltool.optim.scratch.

Three independent oracles check the scratch classes:

* torch.optim, built through the same registry spec (dltool.optim.factory) with the same
  hyperparameters, on a seeded regression problem;
* the numbers printed in the study notes (seed 004), reproduced through the scratch classes;
* direct float64 transcriptions of the notes' listings (AdaDelta, Adam, momentum).

Tests that apply to every optimizer are parametrized over ``OPTIMIZERS.names()`` so that a newly
registered optimizer is checked automatically.

Known, intended formula difference: AdaGrad and RMSprop in the notes divide by ``sqrt(s + eps)``
(eps inside the root) while torch divides by ``sqrt(s) + eps`` (eps outside). Scratch-vs-torch
comparisons therefore run those two with eps = 0, and ``test_eps_placement_closed_forms`` checks
each impl against its own closed form with eps > 0.
"""

from __future__ import annotations

import functools
import io
from fractions import Fraction

import pytest
import torch

from dltool.config import load_registries
from dltool.registry import OPTIMIZERS

load_registries()

# every optimizer with a torch.optim twin (Newton's method has none: its oracles are in test_toys.py)
NAMES = [name for name in OPTIMIZERS.names() if OPTIMIZERS.get(name).traits.torch is not None]

# Optimizers whose notes formula puts eps inside the square root: g / sqrt(s + eps), whereas torch
# uses g / (sqrt(s) + eps). Value: the accumulator s after the first step from a zero state.
EPS_INSIDE_ROOT = {
    "adagrad": lambda hp, g: g * g,  # s <- s + g^2
    "rmsprop": lambda hp, g: (1 - hp["gamma"]) * g * g,  # s <- gamma s + (1 - gamma) g^2
}

# Shapes of a small two-layer regression model: several tensors of different ranks.
SHAPES = [(5, 4), (4,), (4, 1), (1,)]
N_FEATURES, BATCH = 5, 16


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def hyperparameters(name: str, **overrides) -> dict:
    """The spec's hyperparameters (the notes' defaults), validated by the spec's options model."""
    return OPTIMIZERS.get(name).options(**overrides).model_dump()


def torch_comparable(name: str, **overrides) -> dict:
    """Hyperparameters for which the notes' formula and torch's coincide (eps = 0 where they differ)."""
    if name in EPS_INSIDE_ROOT:
        overrides.setdefault("eps", 0.0)
    return hyperparameters(name, **overrides)


def build(name: str, impl: str, params, hp: dict) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(name).builder(impl, params, **hp)


def scratch_class(name: str) -> type:
    return OPTIMIZERS.get(name).traits.scratch


def make_params(dtype=torch.float64, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [(0.5 * torch.randn(shape, generator=generator, dtype=dtype)).requires_grad_() for shape in SHAPES]


def clone_params(params) -> list[torch.Tensor]:
    return [p.detach().clone().requires_grad_() for p in params]


def make_batches(n: int, dtype=torch.float64, seed: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Seeded regression data: y = sin(x @ w) + noise."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(N_FEATURES, 1, generator=generator, dtype=dtype)
    batches = []
    for _ in range(n):
        x = torch.randn(BATCH, N_FEATURES, generator=generator, dtype=dtype)
        y = torch.sin(x @ w) + 0.1 * torch.randn(BATCH, 1, generator=generator, dtype=dtype)
        batches.append((x, y))
    return batches


def loss_fn(params, x, y) -> torch.Tensor:
    w1, b1, w2, b2 = params
    prediction = torch.tanh(x @ w1 + b1) @ w2 + b2
    return ((prediction - y) ** 2).mean()


def train(params, batches, update, loss=loss_fn) -> None:
    """For each batch: fresh gradients by autograd, then `update()` (an optimizer step or a listing)."""
    for x, y in batches:
        for p in params:
            p.grad = None
        loss(params, x, y).backward()
        with torch.no_grad():
            update()


def with_scheduler(optimizer, scheduler):
    def update():
        optimizer.step()
        scheduler.step()

    return update


def assert_params_close(actual, expected, rtol: float, atol: float) -> None:
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a.detach(), e.detach(), rtol=rtol, atol=atol)


def max_abs_diff(actual, expected) -> float:
    return max((a.detach() - e.detach()).abs().max().item() for a, e in zip(actual, expected, strict=True))


def train_both_impls(name: str, hp: dict, steps: int, dtype=torch.float64):
    """Train scratch and torch impls from identical parameters on identical batches."""
    batches = make_batches(steps, dtype)
    results = {}
    for impl in ("scratch", "torch"):
        params = make_params(dtype)
        optimizer = build(name, impl, params, hp)
        train(params, batches, optimizer.step)
        results[impl] = params
    return results["scratch"], results["torch"]


# ----------------------------------------------------------------------------------------------
# 1. scratch vs torch.optim
# ----------------------------------------------------------------------------------------------

TOLERANCE = {torch.float64: dict(rtol=1e-5, atol=1e-9), torch.float32: dict(rtol=1e-5, atol=1e-6)}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1], ids=["no_wd", "wd0.1"])
@pytest.mark.parametrize("name", NAMES)
def test_scratch_matches_torch(name, weight_decay, dtype):
    """100 steps of each scratch optimizer equal torch.optim with the spec's hyperparameters.

    Momentum: the notes' v <- gamma v + lr g, x <- x - v is torch's SGD(momentum=gamma) with
    buf = v / lr, identical for a constant lr. AdaGrad/RMSprop run with eps = 0 (see module doc).
    Weight decay is L2 added to the gradient in both impls.
    """
    hp = torch_comparable(name, weight_decay=weight_decay)
    scratch, reference = train_both_impls(name, hp, steps=100, dtype=dtype)
    assert_params_close(scratch, reference, **TOLERANCE[dtype])
    assert max_abs_diff(scratch, make_params(dtype)) > 1e-3, "the optimizer did not move the parameters"


@pytest.mark.parametrize("name", NAMES)
def test_weight_decay_changes_the_trajectory(name):
    """weight_decay is not silently dropped (the wd comparison above would pass if both ignored it)."""
    with_decay, _ = train_both_impls(name, torch_comparable(name, weight_decay=0.1), steps=20)
    without, _ = train_both_impls(name, torch_comparable(name, weight_decay=0.0), steps=20)
    assert max_abs_diff(with_decay, without) > 1e-4


@pytest.mark.parametrize("weight_decay", [0.0, 0.1], ids=["no_wd", "wd0.1"])
@pytest.mark.parametrize("name", sorted(EPS_INSIDE_ROOT))
def test_eps_placement_closed_forms(name, weight_decay):
    """AdaGrad/RMSprop with eps = 1e-6: one step from a zero state with a tiny gradient.

    notes / scratch:  x <- x - lr * g / sqrt(s + eps)
    torch:            x <- x - lr * g / (sqrt(s) + eps)
    With g = 1e-4 the accumulator s is ~1e-8, comparable to eps, so the two steps differ by a
    large factor; each impl must match its own closed form.
    """
    hp = hyperparameters(name, eps=1e-6, weight_decay=weight_decay)
    x0, raw_grad = 0.5e-4, 1e-4
    g = raw_grad + weight_decay * x0  # L2 weight decay joins the gradient
    s = EPS_INSIDE_ROOT[name](hp, g)
    expected = {
        "scratch": x0 - hp["lr"] * g / (s + hp["eps"]) ** 0.5,
        "torch": x0 - hp["lr"] * g / (s**0.5 + hp["eps"]),
    }
    steps = {}
    for impl in ("scratch", "torch"):
        x = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
        optimizer = build(name, impl, [x], hp)
        x.grad = torch.tensor([raw_grad], dtype=torch.float64)
        optimizer.step()
        assert x.item() == pytest.approx(expected[impl], rel=1e-12, abs=0)
        steps[impl] = x0 - x.item()
    assert steps["torch"] > 2 * steps["scratch"] > 0


@pytest.mark.parametrize("name", sorted(EPS_INSIDE_ROOT))
def test_eps_placement_matters_over_training(name):
    """With the notes' eps (1e-6) the two placements do not agree after 100 steps: components
    whose gradient falls to ~1e-3 get a visibly different step. So scratch and torch AdaGrad/RMSprop
    are only interchangeable with eps = 0, which is why the parity tests set it."""
    scratch, reference = train_both_impls(name, hyperparameters(name), steps=100)
    assert max_abs_diff(scratch, reference) > 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_scratch_matches_torch_when_a_parameter_joins_late(name):
    """A parameter without a gradient for the first steps (p.grad is None, e.g. an unused branch)
    is skipped; once it gets gradients its state starts from scratch, as in torch. Adam's bias
    correction must then use that parameter's own step count (t = 1 when it joins at step 6).
    """
    hp = torch_comparable(name)
    batches = make_batches(10)
    results = {}
    for impl in ("scratch", "torch"):
        params = make_params()
        optimizer = build(name, impl, params, hp)
        for k, (x, y) in enumerate(batches):
            optimizer.zero_grad()
            loss = loss_fn(params, x, y)
            if k < 5:  # the output bias b2 first gets no gradient at all
                loss = loss_fn([params[0], params[1], params[2], params[3].detach()], x, y)
            loss.backward()
            optimizer.step()
        results[impl] = params
    assert_params_close(results["scratch"], results["torch"], rtol=1e-5, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 2. the notes' printed numbers
# ----------------------------------------------------------------------------------------------

QUADRATIC_CASES = [
    # (coefficients of x1^2, x2^2), optimizer, hyperparameter overrides, printed "epoch 20" result
    pytest.param((1.0, 2.0), "sgd", dict(lr=0.1), ("-0.057646", "-0.000073"), id="gd-lr0.1"),
    pytest.param((0.1, 2.0), "sgd", dict(lr=0.4), ("-0.943467", "-0.000073"), id="gd-lr0.4"),
    pytest.param((0.1, 2.0), "momentum", dict(lr=0.4, momentum=0.5), ("-0.062843", "0.001202"), id="momentum-lr0.4"),
    pytest.param((0.1, 2.0), "momentum", dict(lr=0.6, momentum=0.5), ("0.007188", "0.002553"), id="momentum-lr0.6"),
    pytest.param((0.1, 2.0), "adagrad", dict(lr=0.4, eps=1e-6), ("-2.382563", "-0.158591"), id="adagrad-lr0.4"),
    pytest.param((0.1, 2.0), "adagrad", dict(lr=2.0, eps=1e-6), ("-0.002295", "-0.000000"), id="adagrad-lr2"),
    pytest.param(
        (0.1, 2.0), "rmsprop", dict(lr=0.4, gamma=0.9, eps=1e-6), ("-0.010599", "0.000000"), id="rmsprop-lr0.4"
    ),
]


@pytest.mark.parametrize("coefficients, name, overrides, printed", QUADRATIC_CASES)
def test_notes_2d_trajectories(coefficients, name, overrides, printed):
    """f = a x1^2 + b x2^2 from (-5, -2), 20 steps of the scratch optimizer (float64, autograd
    gradients) ends where the notes print it; compared as the notes print it ('%f', 6 decimals,
    sign included)."""
    x = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    a = torch.tensor(coefficients, dtype=torch.float64)
    optimizer = build(name, "scratch", [x], hyperparameters(name, **overrides))
    for _ in range(20):
        optimizer.zero_grad()
        (a * x**2).sum().backward()
        optimizer.step()
    assert tuple(f"{v:f}" for v in x.tolist()) == printed


def notes_gd(eta: float) -> float:
    """The notes' 1-D listing verbatim: x -= eta * 2 * x, ten times from 10 (two roundings a step)."""
    x = 10.0
    for _ in range(10):
        x -= eta * 2 * x
    return x


def fused_gd(eta: float) -> float:
    """The same recurrence with x + (-eta) * (2x) rounded once (a fused multiply-add)."""
    x = 10.0
    for _ in range(10):
        x = float(Fraction(x) + Fraction(-eta) * Fraction(2 * x))
    return x


@pytest.mark.parametrize(
    "eta, printed",
    [(0.2, 0.06046617599999997), (0.05, 3.4867844009999995), (1.1, 61.917364224000096)],
)
def test_notes_1d_gradient_descent(eta, printed):
    """f(x) = x^2 from x = 10, 10 steps of scratch SGD in float64 reproduces the printed x bitwise.

    The scratch step is torch's `x.add_(g, alpha=-lr)`, which the CPU kernel evaluates as one fused
    multiply-add (single rounding), while the notes' `x -= eta * 2 * x` rounds the product first.
    For eta = 0.2 and 0.05 both give the printed value; for eta = 1.1 the fused result is
    61.917364224000075, 3 ulp below the printed 61.917364224000096. So the result must be exactly
    the printed value or exactly the fused-multiply-add value, nothing else; and the notes'
    listing must itself give the printed value.
    """
    assert notes_gd(eta) == printed
    x = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    optimizer = build("sgd", "scratch", [x], hyperparameters("sgd", lr=eta))
    for _ in range(10):
        optimizer.zero_grad()
        (x**2).backward()
        optimizer.step()
    assert x.item() in {printed, fused_gd(eta)}
    if eta != 1.1:
        assert x.item() == printed


# ----------------------------------------------------------------------------------------------
# 3. direct transcriptions of the notes' listings
# ----------------------------------------------------------------------------------------------


def notes_adadelta(params, states, hyperparams):
    """The notes' listing, verbatim (no learning rate, eps = 1e-5)."""
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        s[:] = rho * s + (1 - rho) * (p.grad.data**2)
        g = p.grad.data * torch.sqrt((delta + eps) / (s + eps))
        p.data -= g
        delta[:] = rho * delta + (1 - rho) * g * g


def notes_adam(params, states, hyperparams, t_per_tensor: bool):
    """The notes' listing (eps = 1e-6). The listing bumps t once per parameter tensor inside the
    loop (t_per_tensor=True); the corrected version bumps it once per optimizer step."""
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        v[:] = beta1 * v + (1 - beta1) * p.grad.data
        s[:] = beta2 * s + (1 - beta2) * p.grad.data**2
        v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
        s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
        p.data -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        if t_per_tensor:
            hyperparams["t"] += 1
    if not t_per_tensor:
        hyperparams["t"] += 1


def zero_states(params, n: int):
    return [tuple(torch.zeros_like(p) for _ in range(n)) for p in params]


def test_adadelta_matches_notes_listing():
    """50 steps of scratch AdaDelta (lr 1, rho 0.9, eps 1e-5) equal the notes' listing to 1e-10."""
    batches = make_batches(50)
    params = make_params()
    optimizer = build("adadelta", "scratch", params, hyperparameters("adadelta", lr=1.0, rho=0.9, eps=1e-5))
    train(params, batches, optimizer.step)

    listing_params = make_params()
    states = zero_states(listing_params, 2)
    train(listing_params, batches, lambda: notes_adadelta(listing_params, states, {"rho": 0.9}))

    assert_params_close(params, listing_params, rtol=1e-10, atol=1e-10)
    assert max_abs_diff(params, make_params()) > 1e-3


def test_adam_matches_notes_listing_with_step_counted_per_step():
    """50 steps of scratch Adam (lr 0.01, betas (0.9, 0.999), eps 1e-6) equal the notes' listing
    with t counting optimizer steps, to 1e-10. The listing as printed (t bumped per parameter
    tensor, here 4 tensors) gives measurably different parameters, which scratch must not follow."""
    batches = make_batches(50)
    params = make_params()
    optimizer = build("adam", "scratch", params, hyperparameters("adam", lr=0.01, betas=[0.9, 0.999], eps=1e-6))
    train(params, batches, optimizer.step)

    listings = {}
    for t_per_tensor in (False, True):
        listing_params = make_params()
        states = zero_states(listing_params, 2)
        hyperparams = {"lr": 0.01, "t": 1}
        step = functools.partial(notes_adam, listing_params, states, hyperparams, t_per_tensor)
        train(listing_params, batches, step)
        listings[t_per_tensor] = listing_params

    assert_params_close(params, listings[False], rtol=1e-10, atol=1e-10)
    assert max_abs_diff(params, listings[True]) > 1e-4


def test_momentum_with_a_varying_lr_follows_the_notes_not_torch():
    """With a scheduled lr, the notes' momentum v <- gamma v + lr_t g keeps past steps at their own
    lr, while torch's SGD multiplies its whole buffer by the current lr; scratch follows the notes
    (so scratch/torch parity for momentum holds only for a constant lr)."""
    hp = hyperparameters("momentum", lr=0.05, momentum=0.9)
    batches = make_batches(20)
    decay = lambda epoch: 0.8**epoch  # noqa: E731

    results = {}
    for impl in ("scratch", "torch"):
        params = make_params()
        optimizer = build("momentum", impl, params, hp)
        train(params, batches, with_scheduler(optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, decay)))
        results[impl] = params

    listing_params = make_params()
    velocities = [torch.zeros_like(p) for p in listing_params]
    step = iter(range(len(batches)))

    def notes_momentum():
        lr = hp["lr"] * decay(next(step))
        for p, v in zip(listing_params, velocities):
            v.data = hp["momentum"] * v.data + lr * p.grad.data
            p.data -= v.data

    train(listing_params, batches, notes_momentum)
    assert_params_close(results["scratch"], listing_params, rtol=1e-10, atol=1e-12)
    assert max_abs_diff(results["scratch"], results["torch"]) > 1e-4


# ----------------------------------------------------------------------------------------------
# 4. state_dict and LR schedulers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name):
    """10 steps, save the state_dict (through torch.save, as a checkpoint does), load it into a
    fresh optimizer built with different hyperparameters on a copy of the parameters; 10 more steps
    on both give bitwise-equal parameters (state and hyperparameters are restored)."""
    batches = make_batches(20)
    hp = hyperparameters(name)
    params = make_params()
    optimizer = build(name, "scratch", params, hp)
    train(params, batches[:10], optimizer.step)

    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    resumed_params = clone_params(params)
    resumed = build(name, "scratch", resumed_params, hyperparameters(name, lr=hp["lr"] * 3))
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert resumed.param_groups[0]["lr"] == hp["lr"]

    train(params, batches[10:], optimizer.step)
    train(resumed_params, batches[10:], resumed.step)
    for original, restored in zip(params, resumed_params, strict=True):
        assert torch.equal(original, restored)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_restores_state(name):
    """A fresh optimizer that is *not* given the saved state drifts away when the optimizer has
    state, so the round trip above really exercises the state (stateless SGD excepted)."""
    if not scratch_class(name).state_keys:
        pytest.skip(f"{name} keeps no per-parameter state")
    batches = make_batches(20)
    hp = hyperparameters(name)
    params = make_params()
    optimizer = build(name, "scratch", params, hp)
    train(params, batches[:10], optimizer.step)
    restarted_params = clone_params(params)
    restarted = build(name, "scratch", restarted_params, hp)
    train(params, batches[10:], optimizer.step)
    train(restarted_params, batches[10:], restarted.step)
    assert max_abs_diff(params, restarted_params) > 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_lr_scheduler_drives_scratch_optimizer(name):
    """StepLR rewrites param_groups' lr and the scratch step uses it: the lr follows the schedule,
    and (momentum aside, see test_momentum_with_a_varying_lr_follows_the_notes_not_torch) the
    trajectory equals torch.optim's under the same schedule and differs from a constant lr."""
    hp = torch_comparable(name)
    batches = make_batches(12)
    results = {}
    for impl in ("scratch", "torch"):
        params = make_params()
        optimizer = build(name, impl, params, hp)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
        seen = []
        for batch in batches:
            seen.append(optimizer.param_groups[0]["lr"])
            train(params, [batch], with_scheduler(optimizer, scheduler))
        results[impl] = params
        assert seen == [hp["lr"] * 0.5 ** (k // 3) for k in range(12)]

    constant_params = make_params()
    constant = build(name, "scratch", constant_params, hp)
    train(constant_params, batches, constant.step)
    assert max_abs_diff(results["scratch"], constant_params) > 1e-6
    if name != "momentum":
        assert_params_close(results["scratch"], results["torch"], rtol=1e-5, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# 5. argument checks
# ----------------------------------------------------------------------------------------------

BAD_VALUES = {
    "lr": [0.0, -0.01],
    "momentum": [1.0, 1.5, -0.1],
    "gamma": [1.0, -0.1],
    "rho": [1.0, -0.1],
    "betas": [[1.0, 0.999], [0.9, 1.0], [-0.1, 0.999]],
    "eps": [-1e-8],
    "weight_decay": [-0.1],
}


def invalid_argument_cases():
    for name in NAMES:
        for key in hyperparameters(name):
            for value in BAD_VALUES.get(key, []):
                yield pytest.param(name, key, value, id=f"{name}-{key}={value}")


@pytest.mark.parametrize("name, key, value", list(invalid_argument_cases()))
def test_invalid_arguments_raise(name, key, value):
    """lr <= 0, momentum-like factors outside [0, 1), negative eps or weight decay: ValueError."""
    hp = hyperparameters(name)
    hp[key] = value
    with pytest.raises(ValueError):
        scratch_class(name)(make_params(), **hp)


@pytest.mark.parametrize("name", NAMES)
def test_spec_defaults_are_accepted(name):
    """The boundary of the checks: the spec's defaults, and eps = 0 where eps exists, are valid."""
    scratch_class(name)(make_params(), **hyperparameters(name))
    if "eps" in hyperparameters(name):
        scratch_class(name)(make_params(), **hyperparameters(name, eps=0.0))
