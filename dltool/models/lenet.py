"""The notes' LeNet with batch normalization: BN after every conv and hidden linear layer, before the sigmoid."""

from __future__ import annotations

import torch
from torch import nn

from dltool.bounds import Width, entries
from dltool.errors import UsageError
from dltool.models.batchnorm import batch_norm_layer, seeded_init_
from dltool.registry import MODELS, ModelTraits, Options

KERNEL = 5  # the notes' 5x5 convs, no padding, each followed by a 2x2 max-pool of stride 2


class LeNetOptions(Options):
    channels: list[Width] = entries([6, 16])
    hidden: list[Width] = entries([120, 84], min_length=0)


@MODELS.register("lenet_bn", options=LeNetOptions, traits=ModelTraits("classification", conv=True))
def lenet_bn(
    impl: str, input_shape, num_outputs: int, generator: torch.Generator, channels: list[int], hidden: list[int]
) -> nn.Module:
    """Conv(1->6, 5) BN Sigmoid MaxPool Conv(6->16, 5) BN Sigmoid MaxPool Flatten
    Linear(16*4*4->120) BN Sigmoid Linear(120->84) BN Sigmoid Linear(84->10) for a 28x28 input."""
    in_channels, height, width = input_shape
    h, w = height, width
    layers: list[nn.Module] = []
    for out_channels in channels:
        layers += [
            nn.Conv2d(in_channels, out_channels, KERNEL),
            batch_norm_layer(impl, out_channels, num_dims=4),
            nn.Sigmoid(),
            nn.MaxPool2d(2, 2),
        ]
        in_channels = out_channels
        h, w = (h - KERNEL + 1) // 2, (w - KERNEL + 1) // 2
    if min(h, w) < 1:
        # The flattened size follows the input size (so data.resize works); too small an input has none.
        raise UsageError(
            f"model lenet_bn: a {height}x{width} input is too small for {len(channels)} conv layers "
            f"(5x5 conv + 2x2 pool each); use a larger data.resize or fewer model.channels"
        )
    sizes = [in_channels * h * w, *hidden]
    layers.append(nn.Flatten())
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), batch_norm_layer(impl, b, num_dims=2), nn.Sigmoid()]
    layers.append(nn.Linear(sizes[-1], num_outputs))
    return seeded_init_(nn.Sequential(*layers), generator)
