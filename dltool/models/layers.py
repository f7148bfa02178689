"""The layer table of a model for an input size: each module's output shape and parameter count."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LayerRow:
    name: str
    kind: str
    depth: int
    output_shape: tuple[int, ...] | None
    params: int


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def layer_table(model: nn.Module, input_shape: tuple[int, ...], max_depth: int) -> list[LayerRow]:
    """One forward pass of a batch of 2 (BatchNorm needs more than one value) in eval mode, with hooks
    recording the output shape of every module down to `max_depth`."""
    rows: dict[str, LayerRow] = {}
    hooks = []
    for name, module in model.named_modules():
        depth = name.count(".") + 1 if name else 0
        if not name or depth > max_depth:
            continue
        rows[name] = LayerRow(name, type(module).__name__, depth, None, count_params(module))

        def record(mod, inputs, output, key=name):
            if isinstance(output, torch.Tensor):
                rows[key].output_shape = (1, *output.shape[1:])

        hooks.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(torch.zeros(2, *input_shape))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    table = [LayerRow("input", "", 0, (1, *input_shape), 0), *rows.values()]
    table.append(LayerRow("total", type(model).__name__, 0, (1, *output.shape[1:]), count_params(model)))
    return table


def describe_model(config, max_depth: int) -> tuple[str, list[LayerRow]]:
    """A title and the layer table of a config's model, for its data's input size (no data is loaded)."""
    from dltool.models.build import build_model
    from dltool.registry import DATASETS

    traits = DATASETS.get(config.data.name).traits
    input_shape = tuple(traits.input_shape)
    if config.data.resize and len(input_shape) == 3:
        input_shape = (input_shape[0], config.data.resize, config.data.resize)
    model = build_model(config.model, input_shape, traits.num_outputs, seed=config.seed)
    shape = "×".join(map(str, (1, *input_shape)))
    title = f"{config.model.name} ({config.model.impl}) on {config.data.name}, input {shape}"
    return title, layer_table(model, input_shape, max_depth)
