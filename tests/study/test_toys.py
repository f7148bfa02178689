"""The toy objectives (the point as a model), their gradient-noise data and Newton's method.

Oracles: the closed-form gradients of the notes' objectives, the notes' own Newton loop written in
Python floats, and Newton's one-step solution of a quadratic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dltool.config import load_registries
from dltool.data.toy2d import NoiseOptions, gradient_noise
from dltool.errors import UsageError
from dltool.objectives import OBJECTIVES, XCOS_C
from dltool.optim.scratch import Newton
from dltool.registry import MODELS

load_registries()

GRADIENTS = {  # the notes' gradf for each objective
    "quadratic2d": lambda x: [0.2 * x[0], 4 * x[1]],
    "bowl2d": lambda x: [2 * x[0], 4 * x[1]],
    "square1d": lambda x: [2 * x[0]],
    "xcos1d": lambda x: [math.cos(XCOS_C * x[0]) - XCOS_C * x[0] * math.sin(XCOS_C * x[0])],
    "cosh1d": lambda x: [0.5 * math.sinh(0.5 * x[0])],
}


def point(name: str, start=None):
    dims = OBJECTIVES[name].dims
    return MODELS.get(name).builder(impl="scratch", input_shape=(dims,), num_outputs=dims, generator=None, start=start)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_gradient_is_the_notes_gradient_plus_the_noise(name):
    model = point(name)
    assert model.x.tolist() == list(OBJECTIVES[name].start) and model.x.dtype == torch.float64
    noise = torch.tensor([[0.3, -1.2][: OBJECTIVES[name].dims]], dtype=torch.float64)
    model(noise).mean().backward()
    expected = np.array(GRADIENTS[name](model.x.tolist())) + noise[0].numpy()
    np.testing.assert_allclose(model.x.grad.numpy(), expected, rtol=1e-12)


def test_objectives_give_the_same_values_on_numpy_arrays_and_tensors():
    """The plots evaluate f on numpy grids without torch: it must be the function that was optimized."""
    for objective in OBJECTIVES.values():
        x = np.linspace(-3, 3, 7)
        coords = [x] * objective.dims
        as_numpy = objective.f(coords)
        as_torch = objective.f([torch.tensor(c) for c in coords]).numpy()
        np.testing.assert_allclose(as_numpy, as_torch, rtol=1e-12)


def test_a_start_of_the_wrong_length_is_a_usage_error():
    with pytest.raises(UsageError, match="2-D"):
        point("quadratic2d", start=[1.0])


def noise(seed: int, **options):
    """The gradient_noise dataset; the options not given take the schema's defaults."""
    return gradient_noise(root=None, seed=seed, **NoiseOptions(**options).model_dump())


def test_gradient_noise_is_seeded_and_zero_by_default():
    assert torch.count_nonzero(noise(seed=0).train_x) == 0
    a, b = noise(seed=3, mean=0.1, std=1.0, steps=500), noise(seed=3, mean=0.1, std=1.0, steps=500)
    assert torch.equal(a.train_x, b.train_x) and a.train_x.shape == (500, 2)
    assert abs(a.train_x.mean().item() - 0.1) < 0.1 and abs(a.train_x.std().item() - 1.0) < 0.1
    assert torch.count_nonzero(a.eval_x) == 0  # evaluation is f(x) itself


def notes_newton(gradf, hessf, eta: float, x: float = 10.0, steps: int = 10) -> list[float]:
    """The notes' newton(eta), seed 000, in Python floats."""
    results = [x]
    for _ in range(steps):
        x -= eta * gradf(x) / hessf(x)
        results.append(x)
    return results


@pytest.mark.parametrize(
    "name, eta, gradf, hessf",
    [
        ("cosh1d", 1.0, lambda x: 0.5 * math.sinh(0.5 * x), lambda x: 0.25 * math.cosh(0.5 * x)),
        (
            "xcos1d",
            0.5,
            lambda x: math.cos(XCOS_C * x) - XCOS_C * x * math.sin(XCOS_C * x),
            lambda x: -2 * XCOS_C * math.sin(XCOS_C * x) - x * XCOS_C**2 * math.cos(XCOS_C * x),
        ),
    ],
)
def test_newton_follows_the_notes_loop(name, eta, gradf, hessf):
    model = point(name)
    optimizer = Newton(model.parameters(), lr=eta)
    path = [model.x.item()]
    for _ in range(10):
        optimizer.zero_grad(set_to_none=True)
        model(torch.zeros(1, 1, dtype=torch.float64)).mean().backward(create_graph=True)
        optimizer.step()
        path.append(model.x.item())
    np.testing.assert_allclose(path, notes_newton(gradf, hessf, eta), rtol=1e-9, atol=1e-12)


def test_newton_solves_a_quadratic_in_one_step():
    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = Newton([x], lr=1.0)
    (0.5 * x @ a @ x - b @ x).backward(create_graph=True)
    optimizer.step()
    torch.testing.assert_close(x.detach(), torch.linalg.solve(a, b))


def test_newton_refuses_a_gradient_without_its_graph_and_large_tensors():
    x = torch.ones(3, requires_grad=True)
    (x**2).sum().backward()
    with pytest.raises(ValueError, match="create_graph"):
        Newton([x], lr=1.0).step()
    big = torch.ones(65, requires_grad=True)
    (big**2).sum().backward(create_graph=True)
    with pytest.raises(ValueError, match="too many"):
        Newton([big], lr=1.0).step()
