"""The noisy quadratic model (Zhang et al. 2019, "Which algorithmic choices matter at which batch sizes?"):
f(x) = ½ Σ h_i x_i² with curvatures h_i = 1/i, and a stochastic gradient whose noise covariance is H itself
(per example; H / B over a batch of B). It reproduces what the notes' toy objectives cannot: an
ill-conditioned problem where the batch size, momentum, preconditioning and the schedule each matter.

Its data is `gradient_noise` with dims = the model's dimension: row t is ε_t ~ N(mean, std²), and the model
scales it by √h_i, so forward(ε) = f(x) + (√h ⊙ ε)·x and the gradient is Hx + √h ⊙ ε. Evaluation on the zero
row is f(x) itself, whose floor is 0 at x = 0: a loss with a known floor.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from dltool.registry import MODELS, ModelTraits, Options


class NQMOptions(Options):
    start: float = Field(1.0, gt=0, le=1e6)  # every coordinate's start: f starts at ½ Σ 1/i


class NoisyQuadratic(nn.Module):
    def __init__(self, dims: int, start: float) -> None:
        super().__init__()
        curvature = 1.0 / torch.arange(1, dims + 1, dtype=torch.float64)
        self.register_buffer("curvature", curvature)
        self.register_buffer("noise_scale", curvature.sqrt())
        self.x = nn.Parameter(torch.full((dims,), start, dtype=torch.float64))

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        loss = 0.5 * (self.curvature * self.x**2).sum()
        return loss + (noise.to(self.x.dtype) * self.noise_scale) @ self.x


@MODELS.register("nqm", options=NQMOptions, traits=ModelTraits("objective"))
def nqm(impl: str, input_shape, num_outputs: int, generator, start: float) -> NoisyQuadratic:
    # no layers, so no impl of its own: both are accepted so comparisons stay uniform
    return NoisyQuadratic(input_shape[0], start)
