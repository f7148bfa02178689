"""Progress on stderr: a rich bar on a terminal, plain throttled lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time

from dltool.terminal import wrapped

PLAIN_INTERVAL_S = 10.0
BAR_INTERVAL_S = 0.05  # rich redraws the bar 10 times a second: fields set more often are never seen


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Pace:
    """Examples/s and the time left, from the steps measured after the first (which includes warm-up)."""

    def __init__(self, total_steps: int) -> None:
        self.total, self.first = total_steps, None

    def measure(self, step: int, examples: int, now: float) -> tuple[float, str]:
        if self.first is None:
            self.first = (step, examples, now)
            return 0.0, "-"
        first_step, first_examples, first_now = self.first
        elapsed = max(now - first_now, 1e-9)
        steps_per_s = (step - first_step) / elapsed
        eta = clock((self.total - step) / steps_per_s) if steps_per_s > 0 else "-"
        return (examples - first_examples) / elapsed, eta


class EpochLines:
    """An epoch's line, once its train record (the epoch's mean loss) and the evaluation at the same step are
    both in, whichever is recorded first; `say(step, metrics)` prints it (plainly, or above a live bar)."""

    def __init__(self, say) -> None:
        self.say = say
        self.evaluation: dict | None = None  # the latest evaluation record
        self.epoch_end: dict | None = None  # an epoch's train record, waiting for the evaluation at its step

    def note(self, record: dict) -> None:
        if record.get("split") == "train":
            self.epoch_end = record
        else:
            self.evaluation = record
        done = self.epoch_end is not None and self.evaluation is not None
        if done and self.evaluation["step"] == self.epoch_end["step"]:
            self.flush()

    def flush(self) -> None:
        """The waiting epoch's line (an epoch whose evaluation never came: none at its end)."""
        record, self.epoch_end = self.epoch_end, None
        if record is None:
            return
        parts = [
            f"train loss {record['loss']:.4f}" + (f" acc {record['acc']:.4f}" if record.get("acc") is not None else "")
        ]
        evaluation = self.evaluation
        if evaluation is not None and evaluation["step"] == record["step"] and evaluation.get("loss") is not None:
            acc = f" acc {evaluation['acc']:.4f}" if evaluation.get("acc") is not None else ""
            parts.append(f"{evaluation['split']} loss {evaluation['loss']:.4f}{acc}")
        self.say(record["step"], ", ".join(parts))


class PlainProgress:
    """Without a terminal (logs, CI, pipes): a line at the end of every epoch with its mean train loss
    (and accuracy) and the latest evaluation, and a line at most every PLAIN_INTERVAL_S seconds between."""

    def __init__(self, total_steps: int, steps_per_epoch: int, label: str, stream=None) -> None:
        self.total, self.per_epoch, self.label = total_steps, steps_per_epoch, label
        self.stream = stream or sys.stderr
        self.last = time.monotonic()
        self.pace = Pace(total_steps)
        self.rate, self.eta = 0.0, "-"
        self.lines = EpochLines(self.say)

    def __enter__(self):
        print(f"{self.label}: {self.total / self.per_epoch:g} epochs, {self.total} steps", file=self.stream, flush=True)
        return self

    def __exit__(self, *exc) -> None:
        self.lines.flush()

    def update(self, step: int, epoch: int, loss: float, examples: int, now: float) -> None:
        self.rate, self.eta = self.pace.measure(step, examples, now)
        self.lines.flush()  # an epoch whose evaluation never came (none at its end)
        if step % self.per_epoch == 0 or time.monotonic() - self.last < PLAIN_INTERVAL_S:
            return  # an epoch's end is said with the epoch's metrics, once they are all recorded
        self.say(step, f"loss {loss:.4g} (last batch)")

    def note(self, record: dict) -> None:
        self.lines.note(record)

    def say(self, step: int, metrics: str) -> None:
        """One line (wrapped to a terminal's width between words; piped, whole)."""
        self.last = time.monotonic()
        epochs = self.total / self.per_epoch
        text = f"epoch {step / self.per_epoch:.2f}/{epochs:g}, step {step}/{self.total}: {metrics}, "
        text += f"{self.rate:,.0f} examples/s, ETA {self.eta}"
        print("\n".join(wrapped(text)), file=self.stream, flush=True)


class RichProgress:
    """A bar with step/total, the epoch, the loss, examples/s and the time left (from the measured pace,
    not rich's estimate over the warm-up), narrow enough for 80 columns; rich redraws it a few times a
    second, not per step. The run id is printed above it once, and each finished epoch's line (its train
    and evaluation metrics) above it as the epoch ends, as Lightning and timm print."""

    def __init__(self, total_steps: int, steps_per_epoch: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.per_epoch, self.epochs = steps_per_epoch, total_steps / steps_per_epoch
        console = Console(stderr=True)
        console.print(label, markup=False, highlight=False, style="bold")
        self.progress = Progress(
            BarColumn(bar_width=16),
            MofNCompleteColumn(),
            TextColumn(
                "epoch {task.fields[epoch]} loss {task.fields[loss]} {task.fields[rate]} ex/s ETA {task.fields[eta]}"
            ),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task(label, total=total_steps, epoch="0", loss="-", rate="-", eta="-")
        self.pace, self.total, self.shown = Pace(total_steps), total_steps, float("-inf")
        self.lines = EpochLines(self.say)

    def say(self, step: int, metrics: str) -> None:
        """An epoch's line above the bar (rich wraps it between words)."""
        text = f"epoch {step / self.per_epoch:.2f}/{self.epochs:g}: {metrics}"
        self.progress.console.print(text, markup=False, highlight=False)

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.lines.flush()
        self.progress.stop()

    def update(self, step: int, epoch: int, loss: float, examples: int, now: float) -> None:
        if now - self.shown < BAR_INTERVAL_S and step < self.total:
            return  # setting the fields costs 3.5 us, 5% of an airfoil step, and rich shows them 10 times a second
        self.shown = now
        rate, eta = self.pace.measure(step, examples, now)
        epoch_text = f"{step / self.per_epoch:.2f}/{self.epochs:g}"
        self.progress.update(
            self.task, completed=step, epoch=epoch_text, loss=f"{loss:.4g}", rate=f"{rate:,.0f}", eta=eta
        )

    def note(self, record: dict) -> None:
        self.lines.note(record)


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

    def note(self, record: dict) -> None:
        pass


class MemberProgress:
    """A study's progress on stderr: a line per finished member, '[3/12] adam lr=0.01 · torch: completed'. On a
    terminal, with members in worker processes (`bar`: none shows a bar of its own), the lines go above one
    bar for the whole study: members done of all, the time so far and the time left from the measured pace."""

    def __init__(self, total: int, quiet: bool = False, stream=None, bar: bool = False) -> None:
        self.total, self.quiet, self.done = total, quiet, 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.live = None
        if bar and not quiet and self.stream.isatty() and total > 1:
            self.live = StudyBar(total)

    def member_done(self, member, run_id: str | None, status: str) -> None:
        """A line, wrapped to the terminal between words: a run id moves to the next line whole."""
        self.done += 1
        if self.quiet:
            return
        text = f"[{self.done}/{self.total}] {member.group} (seed {member.seed}): {status}  {run_id or ''}"
        if self.live is not None:
            self.live.said(text, self.done, time.monotonic() - self.started)
        else:
            print("\n".join(wrapped(text)), file=self.stream, flush=True)


class StudyBar:
    """The study's bar, above which member lines are printed; ended when the last member is done, or when the
    process exits (an interrupted study leaves the terminal as it found it)."""

    def __init__(self, total: int) -> None:
        import atexit

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.total = total
        self.progress = Progress(
            TextColumn("members"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("left {task.fields[left]}"), console=Console(stderr=True), transient=False,
        )  # fmt: skip
        self.task = self.progress.add_task("members", total=total, left="-")
        self.progress.start()
        atexit.register(self.progress.stop)

    def said(self, text: str, done: int, elapsed: float) -> None:
        self.progress.console.print(text, markup=False, highlight=False)
        left = clock(elapsed / done * (self.total - done)) if done else "-"  # the pace so far, over what is left
        self.progress.update(self.task, completed=done, left=left)
        if done >= self.total:
            self.progress.stop()
