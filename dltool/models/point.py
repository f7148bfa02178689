"""The notes' toy objectives (dltool/objectives.py) as models: the parameter is the point x itself.

forward(noise) returns f(x) + noise·x for each row of noise, so the gradient the optimizer sees is
∇f(x) + noise: the notes' simulated stochastic gradient, or the exact one where the noise is zero
(the `gradient_noise` dataset). The point is float64, like the notes' Python floats, so their
printed trajectories are reproduced to the digits they print.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from dltool.errors import UsageError
from dltool.objectives import OBJECTIVES, Objective
from dltool.registry import MODELS, ModelTraits, Options


class PointOptions(Options):
    start: list[float] | None = Field(None, min_length=1, max_length=2)  # null: the notes' start


class Point(nn.Module):
    """The point being optimized; its coordinates go into every evaluation record (the trajectory)."""

    def __init__(self, objective: Objective, start: list[float]) -> None:
        super().__init__()
        self.objective = objective
        self.x = nn.Parameter(torch.tensor(start, dtype=torch.float64))

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.objective.f(self.x) + noise.to(self.x.dtype) @ self.x

    def record_fields(self) -> dict:
        return {"x": self.x.detach().cpu().tolist()}


def _register(name: str, objective: Objective) -> None:
    def build(impl: str, input_shape, num_outputs: int, generator, start: list[float] | None) -> Point:
        # impl is irrelevant here (there are no layers); both are accepted so comparisons stay uniform
        start = list(start or objective.start)
        if len(start) != objective.dims or tuple(input_shape) != (objective.dims,):
            raise UsageError(
                f"model '{name}' is {objective.dims}-D but got model.start of length {len(start)} and "
                f"data of {input_shape[0]} dims; set data.dims={objective.dims} and a start of {objective.dims} numbers"
            )
        return Point(objective, start)

    MODELS.register(name, options=PointOptions, traits=ModelTraits("objective", objective=objective))(build)


for _name, _objective in OBJECTIVES.items():
    _register(_name, _objective)
