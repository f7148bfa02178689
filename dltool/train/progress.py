"""Progress on stderr: a rich bar on a terminal, plain throttled lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time

PLAIN_INTERVAL_S = 10.0


class PlainProgress:
    """One line at most every PLAIN_INTERVAL_S seconds, and one at the end of every epoch."""

    def __init__(self, total_steps: int, steps_per_epoch: int, label: str, stream=None) -> None:
        self.total, self.per_epoch, self.label = total_steps, steps_per_epoch, label
        self.stream = stream or sys.stderr
        self.last = time.monotonic()
        self.first = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, step: int, epoch: int, loss: float, examples: int, now: float) -> None:
        if self.first is None:
            self.first = (examples, now)
        epoch_end = step % self.per_epoch == 0
        if not epoch_end and time.monotonic() - self.last < PLAIN_INTERVAL_S:
            return
        self.last = time.monotonic()
        rate = (examples - self.first[0]) / max(now - self.first[1], 1e-9)
        epochs_done = step / self.per_epoch
        print(
            f"{self.label}: epoch {epochs_done:.2f}, step {step}/{self.total}, loss {loss:.6g}, {rate:,.0f} examples/s",
            file=self.stream,
            flush=True,
        )


class RichProgress:
    """A bar with the loss and examples/sec; refreshed by rich a few times a second, not per step."""

    def __init__(self, total_steps: int, steps_per_epoch: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.per_epoch = steps_per_epoch
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epoch {task.fields[epoch]}  loss {task.fields[loss]}  {task.fields[rate]} ex/s"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task(label, total=total_steps, epoch="0", loss="-", rate="-")
        self.first = None

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def update(self, step: int, epoch: int, loss: float, examples: int, now: float) -> None:
        if self.first is None:
            self.first = (examples, now)
        rate = (examples - self.first[0]) / max(now - self.first[1], 1e-9)
        self.progress.update(
            self.task, completed=step, epoch=f"{step / self.per_epoch:.2f}", loss=f"{loss:.4g}", rate=f"{rate:,.0f}"
        )


def make_progress(total_steps: int, steps_per_epoch: int, label: str, quiet: bool = False):
    if quiet:
        return SilentProgress()
    if sys.stderr.isatty():
        return RichProgress(total_steps, steps_per_epoch, label)
    return PlainProgress(total_steps, steps_per_epoch, label)


class SilentProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, **kwargs) -> None:
        pass


class MemberProgress:
    """A comparison's progress: one line per finished member on stderr, '[3/12] adam lr=0.01 · torch: completed'."""

    def __init__(self, total: int, quiet: bool = False, stream=None) -> None:
        self.total, self.quiet, self.done = total, quiet, 0
        self.stream = stream or sys.stderr

    def member_done(self, member, run_id: str | None, status: str) -> None:
        self.done += 1
        if not self.quiet:
            print(
                f"[{self.done}/{self.total}] {member.group} (seed {member.seed}): {status}  {run_id or ''}",
                file=self.stream,
                flush=True,
            )
