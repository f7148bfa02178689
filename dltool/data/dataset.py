"""The in-memory dataset every builder returns, and the one entry point that builds one from config."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from dltool.errors import UsageError
from dltool.registry import DATASETS


@dataclass(frozen=True)
class Dataset:
    """Whole splits as tensors. Images stay uint8 until a batch is prepared (4x less memory)."""

    name: str
    task: str  # "regression" or "classification"
    train_x: torch.Tensor
    train_y: torch.Tensor
    eval_x: torch.Tensor
    eval_y: torch.Tensor
    eval_split: str  # "test", or "full" where the notes measure the loss on the whole training set
    num_outputs: int
    class_names: tuple[str, ...] = ()
    resize: int | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        shape = tuple(self.train_x.shape[1:])
        if self.resize and len(shape) == 3:
            return (shape[0], self.resize, self.resize)
        return shape

    def to(self, device: torch.device) -> "Dataset":
        """Move every split to the device once; batches are then sliced there."""
        return replace(
            self,
            train_x=self.train_x.to(device),
            train_y=self.train_y.to(device),
            eval_x=self.eval_x.to(device),
            eval_y=self.eval_y.to(device),
        )

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """A batch as the model takes it: images scaled to [0, 1] and resized, with tensor ops."""
        if x.dtype == torch.uint8:
            x = x.float().div_(255)
        if self.resize and x.dim() == 4 and x.shape[-1] != self.resize:
            x = torch.nn.functional.interpolate(x, size=(self.resize, self.resize), mode="bilinear", antialias=False)
        return x


def build_dataset(section, seed: int) -> Dataset:
    """The dataset a config's data section names, with `train_size` and `resize` applied."""
    entry = DATASETS.get(section.name)
    dataset = entry.builder(root=section.root, seed=seed, **section.options)
    if section.train_size is not None:
        available = len(dataset.train_y)
        if section.train_size > available:
            raise UsageError(
                f"data.train_size={section.train_size} but '{section.name}' has {available} training examples; "
                f"use a value up to {available}, or null for all"
            )
        dataset = replace(dataset, train_x=dataset.train_x[: section.train_size], train_y=dataset.train_y[: section.train_size])
    if section.resize is not None:
        if dataset.train_x.dim() != 4:
            raise UsageError(f"data.resize applies to images; '{section.name}' has none: remove data.resize")
        dataset = replace(dataset, resize=section.resize)
    return dataset
