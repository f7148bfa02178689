"""Evaluation over a whole split: mean loss and accuracy, and the predicted class of every example."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from dltool.train.device import autocast
from dltool.train.setup import Setup

EVAL_BATCH = 8192


def count_correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == y).sum()


def eval_outputs(setup: Setup, x: torch.Tensor) -> Iterator[tuple[slice, torch.Tensor]]:
    """The model's outputs over a whole split in large batches, in eval mode (BatchNorm uses its
    moving averages); the caller runs under inference_mode. Training mode is restored after."""
    model = setup.model
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), EVAL_BATCH):
            rows = slice(start, start + EVAL_BATCH)
            with autocast(setup.device, setup.precision):
                yield rows, model(setup.data.prepare(x[rows]))
    finally:
        model.train(was_training)


@torch.inference_mode()
def evaluate(setup: Setup, x: torch.Tensor, y: torch.Tensor, classify: bool) -> dict:
    """Mean loss (and accuracy) over a whole split: sums over large batches, then divides. With several
    processes each evaluates its share of the rows and the sums are added up."""
    n = len(y)
    mine = setup.world.shard_rows(n)
    x, y = x[mine], y[mine]
    loss_sum, correct = 0.0, 0.0
    for rows, out in eval_outputs(setup, x):
        loss_sum += float(setup.loss_fn(out.float(), y[rows])) * len(y[rows])
        if classify:
            correct += float(count_correct(out, y[rows]))
    loss_sum, correct = setup.world.sum([loss_sum, correct])
    result = {"loss": loss_sum / n}
    if classify:
        result["acc"] = correct / n
    return result


@torch.inference_mode()
def predict_labels(setup: Setup, x: torch.Tensor) -> torch.Tensor:
    """The predicted class of every example of a split (for the confusion matrix and prediction grid)."""
    return torch.cat([out.argmax(dim=1) for _, out in eval_outputs(setup, x)])
