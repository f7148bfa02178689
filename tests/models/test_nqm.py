"""The noisy quadratic model (Zhang et al. 2019) against its closed form: f(x) = ½ Σ x_i²/i, a stochastic
gradient Hx + √h ⊙ ε; its data's size is checked before anything is held in memory."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from dltool.bounds import MAX_EXAMPLES
from dltool.config import load_registries
from dltool.data.toy2d import NoiseOptions
from dltool.registry import MODELS

load_registries()


def build(dims: int, start: float = 1.0):
    return MODELS.get("nqm").builder(impl="torch", input_shape=(dims,), num_outputs=dims, generator=None, start=start)


def test_the_loss_at_the_start_is_half_the_harmonic_number():
    model = build(100)
    loss = model(torch.zeros(1, 100)).mean()
    assert loss.item() == pytest.approx(0.5 * sum(1 / i for i in range(1, 101)), rel=1e-12)  # 2.5937...


def test_the_gradient_is_the_curvature_times_x_plus_noise_scaled_by_its_root():
    model = build(5, start=2.0)
    noise = torch.randn(3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model(noise).mean().backward()
    h = 1.0 / torch.arange(1, 6, dtype=torch.float64)
    torch.testing.assert_close(model.x.grad, h * 2.0 + h.sqrt() * noise.mean(0), rtol=1e-12, atol=1e-12)


def test_the_noise_must_fit_in_memory():
    assert NoiseOptions(dims=100, steps=1000).dims == 100
    with pytest.raises(ValidationError, match=f"steps × dims must be at most {MAX_EXAMPLES:,}"):
        NoiseOptions(dims=1000, steps=MAX_EXAMPLES)
