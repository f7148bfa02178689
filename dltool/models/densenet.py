"""The notes' DenseNet: dense blocks of BN-ReLU-conv units whose outputs are concatenated, transition
layers between them to halve channels and resolution, ResNet's stem, global average pool, linear."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from dltool.bounds import Repeats, Width, entries
from dltool.errors import UsageError
from dltool.models.batchnorm import batch_norm_layer, seeded_init_
from dltool.models.resnet import stem
from dltool.registry import MODELS, ModelTraits, Options


class DenseNetOptions(Options):
    growth_rate: Width = 32
    blocks: list[Repeats] = entries([4, 4, 4, 4])
    stem_channels: Width = 64


def conv_block(in_channels: int, out_channels: int, *, impl: str) -> nn.Sequential:
    return nn.Sequential(
        batch_norm_layer(impl, in_channels), nn.ReLU(), nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
    )


class DenseBlock(nn.Module):
    """num_convs conv_blocks; each sees the concatenation of the input and all earlier outputs, so the
    block adds num_convs * out_channels (the growth rate) channels."""

    def __init__(self, num_convs: int, in_channels: int, out_channels: int, *, impl: str) -> None:
        super().__init__()
        self.net = nn.ModuleList(
            conv_block(in_channels + i * out_channels, out_channels, impl=impl) for i in range(num_convs)
        )
        self.out_channels = in_channels + num_convs * out_channels

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for blk in self.net:
            X = torch.cat((X, blk(X)), dim=1)
        return X


def transition_block(in_channels: int, out_channels: int, *, impl: str) -> nn.Sequential:
    """BN, ReLU, 1x1 conv to out_channels, 2x2 average pool of stride 2: keeps the concatenations small."""
    return nn.Sequential(
        batch_norm_layer(impl, in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


class DenseNet(nn.Module):
    """stem -> body (dense blocks with transitions between them) -> head (BN, ReLU, pool, linear)."""

    def __init__(
        self, in_channels: int, num_outputs: int, growth_rate: int, blocks: list[int], stem_channels: int, impl: str
    ) -> None:
        super().__init__()
        self.stem = stem(in_channels, stem_channels, impl=impl)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = stem_channels
        for i, num_convs in enumerate(blocks):
            layers[f"dense_block_{i}"] = block = DenseBlock(num_convs, channels, growth_rate, impl=impl)
            channels = block.out_channels
            if i != len(blocks) - 1:
                layers[f"transition_block_{i}"] = transition_block(channels, channels // 2, impl=impl)
                channels //= 2
        self.body = nn.Sequential(layers)
        self.head = nn.Sequential(
            batch_norm_layer(impl, channels),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, num_outputs),
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(X)))


def final_side(side: int, num_transitions: int) -> int:
    """Side length after the stem (7x7/2 conv, 3x3/2 pool, both padded) and the transitions' unpadded 2x2 pools."""
    side = (side - 1) // 2 + 1
    side = (side - 1) // 2 + 1
    return side >> num_transitions


@MODELS.register(
    "densenet", options=DenseNetOptions, traits=ModelTraits("classification", conv=True, prefers_bf16=True)
)
def densenet(
    impl: str,
    input_shape,
    num_outputs: int,
    generator: torch.Generator,
    growth_rate: int,
    blocks: list[int],
    stem_channels: int,
) -> nn.Module:
    in_channels, height, width = input_shape
    transitions = len(blocks) - 1
    if final_side(min(height, width), transitions) < 1:
        # e.g. 28x28 Fashion-MNIST with 4 blocks: 28 -> 7 after the stem -> 3 -> 1 -> 0. Fail before training.
        need = next(s for s in range(1, 1 << 20) if final_side(s, transitions) >= 1)
        raise UsageError(
            f"model densenet: a {height}x{width} input shrinks to nothing after the stem and {transitions} "
            f"transition layers; with {len(blocks)} blocks it must be at least {need}x{need}: set data.resize "
            "(the notes use 96) or use fewer model.blocks"
        )
    model = DenseNet(in_channels, num_outputs, growth_rate, blocks, stem_channels, impl)
    return seeded_init_(model, generator)
