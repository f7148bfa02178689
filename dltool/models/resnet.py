"""The notes' ResNet-18: a 7x7 stem, four stages of two residual blocks, global average pool, linear."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import model_validator
from torch import nn

from dltool.bounds import Repeats, Width, entries
from dltool.models.batchnorm import batch_norm_layer, seeded_init_
from dltool.registry import MODELS, ModelTraits, Options


class ResNetOptions(Options):
    widths: list[Width] = entries([64, 128, 256, 512])
    blocks_per_stage: list[Repeats] = entries([2, 2, 2, 2])

    @model_validator(mode="after")
    def _one_entry_per_stage(self) -> ResNetOptions:
        if len(self.widths) != len(self.blocks_per_stage):
            raise ValueError(
                f"widths ({len(self.widths)} entries) and blocks_per_stage ({len(self.blocks_per_stage)}) "
                "must have one entry per stage"
            )
        return self


class Residual(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(X))))) + X), X through a 1x1 conv when channels or stride change."""

    def __init__(self, in_channels: int, out_channels: int, *, impl: str, use_1x1conv: bool = False, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride) if use_1x1conv else None
        self.bn1 = batch_norm_layer(impl, out_channels)
        self.bn2 = batch_norm_layer(impl, out_channels)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels: int, out_channels: int, num_residuals: int, *, impl: str, first_block: bool = False):
    """One stage. Every stage but the first halves the resolution in its first block; the first follows
    the stem's max-pool, which already did."""
    if first_block and in_channels != out_channels:
        raise ValueError("the first stage keeps the stem's channel count")
    blocks = [
        Residual(in_channels, out_channels, impl=impl, use_1x1conv=True, stride=2)
        if i == 0 and not first_block
        else Residual(out_channels, out_channels, impl=impl)
        for i in range(num_residuals)
    ]
    return nn.Sequential(*blocks)


def stem(in_channels: int, out_channels: int, *, impl: str) -> nn.Sequential:
    """7x7/2 conv, BN, ReLU, 3x3/2 max-pool: a quarter of the input resolution (shared with DenseNet)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=7, stride=2, padding=3),
        batch_norm_layer(impl, out_channels),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )


class ResNet(nn.Module):
    """stem -> stages -> head, kept as attributes so their outputs can be inspected one by one."""

    def __init__(self, in_channels: int, num_outputs: int, widths: list[int], blocks_per_stage: list[int], impl: str):
        super().__init__()
        self.stem = stem(in_channels, widths[0], impl=impl)
        ins = [widths[0], *widths[:-1]]
        self.stages = nn.Sequential(
            *(
                resnet_block(a, b, n, impl=impl, first_block=i == 0)
                for i, (a, b, n) in enumerate(zip(ins, widths, blocks_per_stage))
            )
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], num_outputs))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(X)))


@MODELS.register("resnet18", options=ResNetOptions, traits=ModelTraits("classification", conv=True, prefers_bf16=True))
def resnet18(
    impl: str,
    input_shape,
    num_outputs: int,
    generator: torch.Generator,
    widths: list[int],
    blocks_per_stage: list[int],
) -> nn.Module:
    # Any input size works: the padded stride-2 convs and pools never shrink a side below 1.
    model = ResNet(input_shape[0], num_outputs, widths, blocks_per_stage, impl)
    return seeded_init_(model, generator)
