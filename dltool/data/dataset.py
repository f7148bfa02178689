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
    task: str  # "regression", "classification" or "objective" (a toy f(x): models/objectives.py)
    train_x: torch.Tensor
    train_y: torch.Tensor
    eval_x: torch.Tensor
    eval_y: torch.Tensor
    eval_split: str  # "test"; "valid" (data.validation); or "full" where the notes measure the loss on the whole set
    num_outputs: int
    class_names: tuple[str, ...] = ()
    resize: int | None = None
    memory_format: torch.memory_format = torch.contiguous_format
    # With a validation split (eval_split "valid") the test set, evaluated once after training; else None
    test_x: torch.Tensor | None = None
    test_y: torch.Tensor | None = None

    @property
    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The test split: the held-back one beside a validation split, else the evaluation split."""
        if self.test_x is None or self.test_y is None:
            return self.eval_x, self.eval_y
        return self.test_x, self.test_y

    @property
    def input_shape(self) -> tuple[int, ...]:
        shape = tuple(self.train_x.shape[1:])
        if self.resize and len(shape) == 3:
            return (shape[0], self.resize, self.resize)
        return shape

    def to(self, device: torch.device) -> Dataset:
        """Move every split to the device once; batches are then sliced there."""
        return replace(
            self,
            train_x=self.train_x.to(device),
            train_y=self.train_y.to(device),
            eval_x=self.eval_x.to(device),
            eval_y=self.eval_y.to(device),
            test_x=None if self.test_x is None else self.test_x.to(device),
            test_y=None if self.test_y is None else self.test_y.to(device),
        )

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """A batch as the model takes it: images scaled to [0, 1] and resized, with tensor ops."""
        if x.dtype == torch.uint8:
            x = x.float().div_(255)
        if self.resize and x.dim() == 4 and x.shape[-1] != self.resize:
            x = torch.nn.functional.interpolate(x, size=(self.resize, self.resize), mode="bilinear", antialias=False)
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        return x


def _checked_size(size: int, available: int, key: str, name: str) -> int:
    if size > available:
        raise UsageError(
            f"data.{key}={size} but '{name}' has {available} such examples; use at most {available}, or null for all"
        )
    return size


def hold_out_validation(dataset: Dataset, count: int) -> Dataset:
    """The last `count` training examples become the "valid" split that evaluations (and selection) read;
    the test split is kept apart, for one evaluation after training."""
    name, available = dataset.name, len(dataset.train_y)
    if dataset.eval_split != "test":
        raise UsageError(
            f"data.validation: '{name}' has no test split to keep apart (it is evaluated on its whole set); "
            "remove data.validation"
        )
    if count >= available:
        raise UsageError(
            f"data.validation={count} but '{name}' has {available} training examples (after data.train_size); "
            f"use at most {available - 1}, so some are left to train on"
        )
    keep = available - count
    return replace(
        dataset,
        train_x=dataset.train_x[:keep],
        train_y=dataset.train_y[:keep],
        eval_x=dataset.train_x[keep:],
        eval_y=dataset.train_y[keep:],
        eval_split="valid",
        test_x=dataset.eval_x,
        test_y=dataset.eval_y,
    )


def build_dataset(section, seed: int) -> Dataset:
    """The dataset a config's data section names, with `train_size`, `test_size` (first N), `validation`
    (the last N of those training examples) and `resize` applied, in that order."""
    entry = DATASETS.get(section.name)
    dataset = entry.builder(root=section.root, seed=seed, **section.options)
    if section.train_size is not None:
        n = _checked_size(section.train_size, len(dataset.train_y), "train_size", section.name)
        dataset = replace(dataset, train_x=dataset.train_x[:n], train_y=dataset.train_y[:n])
    if section.test_size is not None:
        if dataset.eval_split != "test":
            raise UsageError(f"data.test_size: '{section.name}' is evaluated on its whole set; remove data.test_size")
        n = _checked_size(section.test_size, len(dataset.eval_y), "test_size", section.name)
        dataset = replace(dataset, eval_x=dataset.eval_x[:n], eval_y=dataset.eval_y[:n])
    if section.validation is not None:
        dataset = hold_out_validation(dataset, section.validation)
    if section.resize is not None:
        if dataset.train_x.dim() != 4:
            raise UsageError(f"data.resize applies to images; '{section.name}' has none: remove data.resize")
        dataset = replace(dataset, resize=section.resize)
    return dataset
