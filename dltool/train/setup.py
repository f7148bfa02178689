"""What a run trains (Setup) and where its training is (Position): the two things the engine works on
and a checkpoint saves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from dltool.data.batches import EpochBatches
from dltool.data.dataset import Dataset
from dltool.train.distributed import World


@dataclass
class Setup:
    """Everything one training run works on."""

    model: nn.Module
    loss_fn: Callable
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    data: Dataset
    batches: EpochBatches
    device: torch.device
    precision: str = "fp32"
    # fp16 needs its loss scaled so small gradients don't flush to zero; disabled it is a no-op.
    scaler: torch.amp.GradScaler = field(default_factory=lambda: torch.amp.GradScaler("cuda", enabled=False))
    world: World = field(default_factory=World)
    # What training steps call: the model itself, or its DistributedDataParallel wrapper under torchrun.
    # Evaluation, checkpoints and records use `model`, which holds the same parameters.
    train_model: nn.Module | None = None
    # The optimizer's registry trait: Newton's method differentiates the gradient again, so the
    # gradient keeps its graph (backward(create_graph=True)).
    second_order: bool = False
    # The model's registry trait (a toy objective): the model is a dltool.models.point.Point, whose
    # coordinates every record carries, so its trajectory is stored.
    records_point: bool = False

    def __post_init__(self) -> None:
        if self.train_model is None:
            self.train_model = self.model


@dataclass
class Position:
    """Where training is; saved in checkpoints with the partial sums of the current epoch."""

    step: int = 0
    epoch: int = 0  # completed epochs
    batch_in_epoch: int = 0
    examples: int = 0
    elapsed: float = 0.0  # training seconds before this process (resume)
    epoch_sums: dict = field(default_factory=lambda: {"loss": 0.0, "correct": 0.0, "count": 0})

    @property
    def mid_epoch(self) -> bool:
        """Some of the current epoch's batches are done: resuming redraws this epoch's order and skips them."""
        return self.batch_in_epoch > 0
