"""The notes' multilayer perceptron (784-256-10 by default): ReLU hidden layers."""

from __future__ import annotations

import math

import torch
from torch import nn

from dltool.bounds import Width, entries
from dltool.models.linear import affine
from dltool.models.scratch_ops import relu
from dltool.registry import MODELS, ModelTraits, Options


class MLPOptions(Options):
    hidden: list[Width] = entries([256])


class ScratchMLP(nn.Module):
    def __init__(self, sizes: list[int], generator: torch.Generator) -> None:
        super().__init__()
        self.layers = nn.ModuleList(affine("scratch", a, b, generator) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = relu(layer(x))
        return self.layers[-1](x)


@MODELS.register("mlp", options=MLPOptions, traits=ModelTraits("classification"))
def mlp(impl: str, input_shape, num_outputs: int, generator: torch.Generator, hidden: list[int]) -> nn.Module:
    sizes = [math.prod(input_shape), *hidden, num_outputs]
    if impl == "scratch":
        return ScratchMLP(sizes, generator)
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(sizes, sizes[1:]):
        layers += [affine("torch", a, b, generator), nn.ReLU()]
    return nn.Sequential(*layers[:-1])
