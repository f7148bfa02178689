"""The training loop: epochs of train steps, evaluations, divergence, signals and checkpoints.

fit() reports through three callbacks (record a metric, save a checkpoint, show progress) and
never touches files itself. All randomness is in the data-order generator and torch's RNG, both
saved in checkpoints, so a resumed run continues exactly.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import torch

from dltool.train.device import autocast
from dltool.train.evaluate import count_correct, evaluate
from dltool.train.setup import Position, Setup

if TYPE_CHECKING:
    from dltool.models.point import Point


class Diverged(Exception):
    def __init__(self, step: int, loss: float) -> None:
        super().__init__(f"loss became {loss} at step {step}")
        self.step = step


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@dataclass
class Hooks:
    record: Callable[[dict], None]  # one metrics record
    checkpoint: Callable[[Position], None]  # save a checkpoint of the Setup at this Position
    progress: Callable[..., None]


class Pruned(Exception):
    """Raised by a run's watcher (a tuning study's pruner) to stop it early: a result, not a failure."""

    def __init__(self, step: int) -> None:
        super().__init__(f"pruned at step {step}")
        self.step = step


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
        self.stop = StopFlag()  # fit() is given the one that receives the signals
        # With several processes every rank stops at the same step: the signal any rank received
        self.agreed_stop: int | None = None

    @property
    def now(self) -> float:
        return self.pos.elapsed + time.perf_counter() - self.started

    def position_now(self) -> Position:
        """The position with the training time so far, for a checkpoint."""
        return replace(self.pos, elapsed=self.now)

    def lr(self) -> float:
        """The lr the last step used (the scheduler has already moved on to the next one)."""
        return self.last_lr if self.last_lr is not None else self.setup.optimizer.param_groups[0]["lr"]

    def record(self, split: str, metrics: dict) -> None:
        n = self.setup.batches.used  # the examples an epoch trains on
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
        if not self.setup.records_point:
            return {}
        return cast("Point", self.setup.model).record_fields()

    def record_eval(self) -> dict:
        data = self.setup.data
        self.setup.world.sync_buffers(self.setup.model)
        metrics = evaluate(self.setup, data.eval_x, data.eval_y, self.classify)
        self.record(data.eval_split, metrics)
        if not math.isfinite(metrics["loss"]):
            raise Diverged(self.pos.step, metrics["loss"])
        return metrics

    def record_test(self) -> None:
        """Beside a validation split, the test set once after training: selection never read it."""
        data = self.setup.data
        if data.eval_split != "valid":
            return  # the evaluations were on the test (or whole) set already
        self.setup.world.sync_buffers(self.setup.model)
        self.record("test", evaluate(self.setup, *data.test_set, self.classify))

    def train_step(self, index: torch.Tensor) -> float:
        """One optimizer step on the global batch `index` (this rank computes on its shard of it);
        returns the batch's mean loss."""
        setup = self.setup
        mine = setup.world.shard(index)
        # index_select, not x[mine]: advanced indexing costs 10x more (80 us a batch of 256 images)
        x = setup.data.prepare(setup.data.train_x.index_select(0, mine))
        y = setup.data.train_y.index_select(0, mine)
        with autocast(setup.device, setup.precision):
            out = setup.train_model(x)
        loss = setup.loss_fn(out.float(), y)
        self.clear_grads()
        self.backward_and_step(self.global_objective(loss, len(y), len(index)))
        correct = float(count_correct(out.detach(), y)) if self.classify else 0.0
        return self.stepped(float(loss.detach()), correct, len(y))

    def stepped(self, loss: float, correct: float, count: int) -> float:
        """After the optimizer's step: the schedule moves on and the batch joins the epoch's sums."""
        self.last_lr = self.setup.optimizer.param_groups[0]["lr"]
        self.setup.scheduler.step()
        return self.add_to_epoch_sums(loss, correct, count)

    def global_objective(self, loss: torch.Tensor, shard_size: int, batch_size: int) -> torch.Tensor:
        """What this rank differentiates. DDP averages the ranks' gradients: weighting each by its shard's
        share of the batch makes the average the gradient of the global batch's mean loss when shards
        differ in size."""
        world_size = self.setup.world.size
        if shard_size * world_size == batch_size:
            return loss
        return loss * (shard_size * world_size / batch_size)

    def backward_and_step(self, objective: torch.Tensor) -> None:
        """Gradients, then the optimizer's step: keeping the gradient's graph for a second-order
        optimizer, through the loss scaler when it is enabled (fp16)."""
        setup = self.setup
        if setup.second_order:
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

    def add_to_epoch_sums(self, loss: float, correct: float, count: int) -> float:
        """Adds this rank's batch (mean loss, correct predictions, examples) to the epoch's sums; with several
        processes one all-reduce makes them the global batch's, and says whether any rank was signalled.
        Returns the batch's mean loss."""
        world = self.setup.world
        loss_sum = loss * count
        if world.distributed:
            signum = self.stop.signum
            loss_sum, correct, count, sigint, sigterm = world.sum(
                [loss_sum, correct, count, float(signum == signal.SIGINT), float(signum == signal.SIGTERM)]
            )
            loss = loss_sum / count
            self.agreed_stop = signal.SIGINT if sigint else signal.SIGTERM if sigterm else None
        sums = self.pos.epoch_sums
        sums["loss"] += loss_sum
        sums["count"] += int(count)
        sums["correct"] += correct
        return loss

    def stop_signal(self) -> int | None:
        """The signal to stop on after this step: this process's, or with several, the one all agree on."""
        return self.agreed_stop if self.setup.world.distributed else self.stop.signum

    def clear_grads(self) -> None:
        """optimizer.zero_grad(set_to_none=True) without its profiler and dynamo wrappers: a third of
        a small model's step time (airfoil: 30 of 90 us of Python overhead per step)."""
        for group in self.setup.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None

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
        self.hooks.checkpoint(self.position_now())

    def run_epoch(self) -> None:
        setup = self.setup
        setup.model.train()
        skip = self.pos.batch_in_epoch
        for index in setup.batches.epoch(setup.device, skip=skip):
            self.after_step(len(index), self.train_step(index))
        self.end_epoch()

    def after_step(self, batch: int, loss: float) -> None:
        """What follows a step of `batch` examples whose mean loss was `loss`: the position moves on, then
        divergence, an evaluation, progress, a signal and a checkpoint are seen to. The population engine
        (train/population.py) calls it for each member after their shared step."""
        before = self.pos.examples
        self.pos.step += 1
        self.pos.batch_in_epoch += 1
        self.pos.examples += batch
        if not math.isfinite(loss):
            raise Diverged(self.pos.step, loss)
        if self.eval_every and self.pos.examples // self.eval_every > before // self.eval_every:
            self.record_eval()
        self.hooks.progress(
            step=self.pos.step, epoch=self.pos.epoch, loss=loss, examples=self.pos.examples, now=self.now
        )
        signum = self.stop_signal()
        if signum is not None:
            self.hooks.checkpoint(self.position_now())
            raise Interrupted(signum)
        if (
            self.checkpoint_every
            and self.pos.step % self.checkpoint_every == 0
            and self.pos.batch_in_epoch < len(self.setup.batches)
        ):
            self.hooks.checkpoint(self.position_now())  # long epochs: don't lose them

    def start_clock(self, at: float | None = None) -> None:
        """Training time counts from here (or the perf_counter() `at`): not the folders and hooks made before."""
        self.started = time.perf_counter() if at is None else at

    def fit(self, epochs: int, stop: StopFlag) -> None:
        self.stop = stop
        self.start_clock()
        if self.pos.step == 0 and self.eval_every:
            self.record_eval()  # the notes' curves start at the initial loss
        while self.pos.epoch < epochs:
            self.run_epoch()
        self.record_test()
