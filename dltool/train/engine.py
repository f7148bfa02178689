"""The training loop: train_one_epoch / evaluate / fit, with divergence, signals and checkpoints.

fit() reports through three callbacks (record a metric, save a checkpoint, show progress) and
never touches files itself. All randomness is in the data-order generator and torch's RNG, both
saved in checkpoints, so a resumed run continues exactly.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from dltool.data.batches import EpochBatches
from dltool.data.dataset import Dataset
from dltool.train.device import autocast
from dltool.train.distributed import World

EVAL_BATCH = 8192


class Diverged(Exception):
    def __init__(self, step: int, loss: float) -> None:
        super().__init__(f"loss became {loss} at step {step}")
        self.step = step


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


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


@dataclass
class Hooks:
    record: Callable[[dict], None]
    checkpoint: Callable[[dict], None]
    progress: Callable[..., None]


class StopFlag:
    """SIGINT/SIGTERM ask fit() to stop after the current step; a second SIGINT stops at once."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.finishing = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.finishing:  # the outcome is being written: let it finish, it takes a moment
            return
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> StopFlag:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def host_rng_state() -> dict:
    """Python's and numpy's global RNG states as tensors and plain numbers (weights_only-loadable)."""
    version, words, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": version, "words": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached": cached,
        },
    }


def set_host_rng_state(state: dict) -> None:
    python, nump = state["python"], state["numpy"]
    random.setstate((python["version"], tuple(python["words"].tolist()), python["gauss"]))
    keys = nump["keys"].numpy().astype(np.uint32)
    np.random.set_state((nump["kind"], keys, nump["pos"], nump["has_gauss"], nump["cached"]))


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


class Trainer:
    """Runs epochs over a Setup from a Position, reporting through Hooks."""

    def __init__(
        self,
        setup: Setup,
        position: Position,
        hooks: Hooks,
        eval_every: int | None,
        checkpoint_every: int | None = None,
    ) -> None:
        self.setup = setup
        self.pos = position
        self.hooks = hooks
        self.eval_every = eval_every
        self.checkpoint_every = checkpoint_every
        self.classify = setup.data.task == "classification"
        self.started = time.perf_counter()
        self.last_lr: float | None = None
        # Newton's method differentiates the gradient again, so the gradient keeps its graph
        self.second_order = getattr(setup.optimizer, "second_order", False)
        self.stop = StopFlag()  # fit() is given the one that receives the signals
        # With several processes every rank stops at the same step: the signal any rank received
        self.agreed_stop: int | None = None

    @property
    def now(self) -> float:
        return self.pos.elapsed + time.perf_counter() - self.started

    def lr(self) -> float:
        """The lr the last step used (the scheduler has already moved on to the next one)."""
        return self.last_lr if self.last_lr is not None else self.setup.optimizer.param_groups[0]["lr"]

    def record(self, split: str, metrics: dict) -> None:
        n = len(self.setup.data.train_y)
        self.hooks.record(
            {
                "step": self.pos.step,
                "epoch": self.pos.examples / n,
                "examples": self.pos.examples,
                "time": round(self.now, 6),
                "split": split,
                "loss": metrics["loss"],
                "acc": metrics.get("acc"),
                "lr": self.lr(),
                **self.model_fields(),
            }
        )

    def model_fields(self) -> dict:
        """Fields a model adds to each record: a toy objective's point, so its trajectory is stored."""
        fields = getattr(self.setup.model, "record_fields", None)
        return fields() if fields else {}

    def record_eval(self) -> dict:
        data = self.setup.data
        self.setup.world.sync_buffers(self.setup.model)
        metrics = evaluate(self.setup, data.eval_x, data.eval_y, self.classify)
        self.record(data.eval_split, metrics)
        if not math.isfinite(metrics["loss"]):
            raise Diverged(self.pos.step, metrics["loss"])
        return metrics

    def train_step(self, index: torch.Tensor) -> float:
        """One optimizer step on the global batch `index` (this rank computes on its shard of it);
        returns the batch's mean loss."""
        setup = self.setup
        world = setup.world
        mine = world.shard(index)
        x = setup.data.prepare(setup.data.train_x[mine])
        y = setup.data.train_y[mine]
        with autocast(setup.device, setup.precision):
            out = setup.train_model(x)
        loss = setup.loss_fn(out.float(), y)
        objective = loss
        if len(y) * world.size != len(index):
            # DDP averages the ranks' gradients: weighting each by its shard's share of the batch
            # makes the average the gradient of the global batch's mean loss when shards differ in size
            objective = loss * (len(y) * world.size / len(index))
        self.clear_grads()
        if self.second_order:
            with warnings.catch_warnings():  # the grad -> param cycle it warns of ends at clear_grads()
                warnings.filterwarnings("ignore", "Using backward\\(\\) with create_graph=True")
                objective.backward(create_graph=True)
            setup.optimizer.step()
        elif setup.scaler.is_enabled():
            setup.scaler.scale(objective).backward()
            setup.scaler.step(setup.optimizer)
            setup.scaler.update()
        else:
            objective.backward()
            setup.optimizer.step()
        self.last_lr = setup.optimizer.param_groups[0]["lr"]
        setup.scheduler.step()
        value = float(loss.detach())
        loss_sum, count = value * len(y), len(y)
        correct = float(count_correct(out.detach(), y)) if self.classify else 0.0
        if world.distributed:  # one all-reduce: the global batch's sums, and whether any rank was signalled
            signum = self.stop.signum
            loss_sum, correct, count, sigint, sigterm = world.sum(
                [loss_sum, correct, count, float(signum == signal.SIGINT), float(signum == signal.SIGTERM)]
            )
            value = loss_sum / count
            self.agreed_stop = signal.SIGINT if sigint else signal.SIGTERM if sigterm else None
        sums = self.pos.epoch_sums
        sums["loss"] += loss_sum
        sums["count"] += int(count)
        sums["correct"] += correct
        return value

    def stop_signal(self) -> int | None:
        """The signal to stop on after this step: this process's, or with several, the one all agree on."""
        return self.agreed_stop if self.setup.world.distributed else self.stop.signum

    def clear_grads(self) -> None:
        """optimizer.zero_grad(set_to_none=True) without its profiler and dynamo wrappers: a third of
        a small model's step time (airfoil: 30 of 90 us of Python overhead per step)."""
        for group in self.setup.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None

    def checkpoint_state(self, mid_epoch: bool) -> dict:
        setup = self.setup
        return {
            "model": setup.model.state_dict(),
            "optimizer": setup.optimizer.state_dict(),
            "scheduler": setup.scheduler.state_dict(),
            "scaler": setup.scaler.state_dict(),
            "batches": setup.batches.state_dict(mid_epoch=mid_epoch),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "host_rng": host_rng_state(),
            "position": {**vars(self.pos), "elapsed": self.now},
        }

    def end_epoch(self) -> None:
        sums = self.pos.epoch_sums
        train = {"loss": sums["loss"] / max(sums["count"], 1)}
        if self.classify:
            train["acc"] = sums["correct"] / max(sums["count"], 1)
        self.pos.epoch += 1
        self.pos.batch_in_epoch = 0
        self.pos.epoch_sums = {"loss": 0.0, "correct": 0.0, "count": 0}
        self.record("train", train)
        if not (self.eval_every and self.pos.examples % self.eval_every == 0):
            self.record_eval()  # an every-N-examples evaluation already covered this point
        self.hooks.checkpoint(self.checkpoint_state(mid_epoch=False))

    def run_epoch(self) -> None:
        setup = self.setup
        setup.model.train()
        skip = self.pos.batch_in_epoch
        for index in setup.batches.epoch(setup.device, skip=skip):
            loss = self.train_step(index)
            before = self.pos.examples
            self.pos.step += 1
            self.pos.batch_in_epoch += 1
            self.pos.examples += len(index)
            if not math.isfinite(loss):
                raise Diverged(self.pos.step, loss)
            if self.eval_every and self.pos.examples // self.eval_every > before // self.eval_every:
                self.record_eval()
            self.hooks.progress(
                step=self.pos.step, epoch=self.pos.epoch, loss=loss, examples=self.pos.examples, now=self.now
            )
            signum = self.stop_signal()
            if signum is not None:
                self.hooks.checkpoint(self.checkpoint_state(mid_epoch=True))
                raise Interrupted(signum)
            if (
                self.checkpoint_every
                and self.pos.step % self.checkpoint_every == 0
                and self.pos.batch_in_epoch < len(setup.batches)
            ):
                self.hooks.checkpoint(self.checkpoint_state(mid_epoch=True))  # long epochs: don't lose them
        self.end_epoch()

    def fit(self, epochs: int, stop: StopFlag) -> None:
        self.stop = stop
        if self.pos.step == 0 and self.eval_every:
            self.record_eval()  # the notes' curves start at the initial loss
        while self.pos.epoch < epochs:
            self.run_epoch()
