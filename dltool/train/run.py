"""One training run: a new one (train) or one continued from its checkpoint (resume). Build its Setup,
make or reopen its folder, fit, and record how it ended.

Rank 0 writes the run folder and reports; under torchrun the other ranks follow the same steps and
collectives without writing anything.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import torch

from dltool.config import Config, dump_config
from dltool.files import DISK_FULL, atomic_write_json, atomic_write_text, disk_full, disk_full_message
from dltool.store.predictions import save_predictions
from dltool.store.record_writers import RecordWriters
from dltool.store.run import RUN_FILES, Run, RunStore, now_iso, pid_alive, this_process
from dltool.store.tensorboard import require_tensorboard
from dltool.train.build import build_setup, environment, run_card
from dltool.train.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from dltool.train.distributed import World, lost_peer
from dltool.train.engine import Diverged, Hooks, Interrupted, Pruned, StopFlag, Trainer
from dltool.train.evaluate import predict_labels
from dltool.train.launch import LAUNCH_INFO, announce_run
from dltool.train.progress import make_progress
from dltool.train.resume import resumable_run, started_threads
from dltool.train.setup import Position, Setup
from dltool.train.summary import earlier_parts, summarize
from dltool.train.threads import ThreadShare

if TYPE_CHECKING:
    from dltool.plots.processes import PlotProcesses

# A run's pictures at its end: True, drawn in this process; plotting processes started with the run
# (the CLI's); False, left to `dltool plot` (a comparison draws its own, for all members at once).
Pictures = Union[bool, "PlotProcesses"]

Watch = Callable[[dict], None]  # sees every metrics record of a run; raises Pruned to stop it early

# How long a rank that lost rank 0 waits for it to exit before deciding it died without a word
MAIN_EXIT_WAIT_S = 5.0


@dataclass
class Outcome:
    run: Run | None  # None on a rank other than 0
    status: str
    exit_code: int
    summary: dict


def train(
    config: Config,
    runs_dir: Path | None = None,
    quiet: bool = False,
    plots: Pictures = True,
    world: World | None = None,
    study: str | None = None,
    watch: Watch | None = None,
) -> Outcome:
    """A new run of `config` in a new folder under runs_dir (made by rank 0 alone); a member of `study` if given."""
    world = world or World()
    if config.train.tensorboard:
        require_tensorboard()
    with ThreadShare(config.threads):
        return train_new(config, runs_dir, quiet, plots, world, study, watch)


def train_new(config: Config, runs_dir, quiet: bool, plots: Pictures, world: World, study=None, watch=None):
    setup = build_setup(config, world)
    ranks = world.describe() if world.distributed else None
    run = world.from_main(lambda: create_run(config, setup, runs_dir, study))
    if not world.is_main:
        return follow(setup, config, Position(), run, ranks)
    return execute(run, setup, config, Position(), quiet, plots, ranks, watch)


def create_run(config: Config, setup: Setup, runs_dir: Path | None, study: str | None) -> Run:
    """A new run's folder with its config, environment and `running` status, all there when it appears."""

    def fill(run: Run) -> None:
        atomic_write_text(run.path(RUN_FILES.config), dump_config(config))
        atomic_write_json(run.path(RUN_FILES.env), environment(setup, config))
        card = run_card(config, study)
        run.set_status("running", **this_process(), started=now_iso(), created=time.time(), step=0, **card)

    run = RunStore(runs_dir).create(config.label, config.optimizer.name, fill)
    announce_run(run)
    return run


def resume(
    run_id: str,
    runs_dir: Path | None = None,
    quiet: bool = False,
    world: World | None = None,
    plots: Pictures = True,
    watch: Watch | None = None,
) -> Outcome:
    """Continue an interrupted, failed or crashed run from its last checkpoint, in its own folder."""
    world = world or World()

    def locate() -> tuple[Run, Config, dict]:
        run, config = resumable_run(run_id, runs_dir)
        return run, config, read_checkpoint(run)

    run, config, state = world.from_main(locate)
    with ThreadShare(config.threads, count=started_threads(run)):  # the numbers stay those of its start
        return resume_found(run, config, state, quiet, world, plots, watch)


def resume_found(
    run: Run, config: Config, state: dict, quiet: bool, world: World, plots: Pictures, watch=None
) -> Outcome:
    setup = build_setup(config, world)
    position = world.together(lambda: load_checkpoint(run, state, setup))
    ranks = world.describe() if world.distributed else None
    if not world.is_main:
        return follow(setup, config, position, run, ranks)
    announce_run(run)
    if not quiet:
        epoch = position.examples / setup.batches.used
        print(f"resuming {run.id} from step {position.step:,} (epoch {epoch:.2f})", file=sys.stderr, flush=True)
    run.truncate_metrics(position.step)  # records written after the checkpoint will be written again
    return execute(run, setup, config, position, quiet, plots, ranks, watch)


def execute(
    run: Run,
    setup: Setup,
    config: Config,
    position: Position,
    quiet: bool,
    plots: Pictures = True,
    ranks: dict | None = None,
    watch: Watch | None = None,
) -> Outcome:
    """Fit and record how it ended: completed, diverged, interrupted, pruned (by `watch`, which sees every
    record) or failed; `plots`: see Pictures. `ranks` (World.describe) says where each process runs."""
    wall_start = time.perf_counter()
    resumed_step, resumed_at = position.step, position.elapsed
    records = RecordWriters(run, config.train.tensorboard, watch)
    steps_per_epoch = len(setup.batches)
    progress = make_progress(steps_per_epoch * config.train.epochs, steps_per_epoch, run.id, quiet=quiet)
    hooks = Hooks(
        lambda r: (records.write(r), progress.note(r)), lambda at: save_checkpoint(run, setup, at), progress.update
    )
    trainer = Trainer(setup, position, hooks, config.train.eval_every_examples, config.train.checkpoint_every_steps)
    mark_running(run, config, position.step, ranks)
    with StopFlag() as stop:
        error_log = run.path(RUN_FILES.error_log)
        status, exit_code, extra = fit_and_classify(trainer, progress, config.train.epochs, stop, error_log)
        stop.finishing = True  # from here a Ctrl-C must not leave the run half-recorded
        records.close()
        summary = record_outcome(run, trainer, status, extra, wall_start, resumed_step, resumed_at)
        drawable = run.metrics() and not str(extra.get("error", "")).startswith(DISK_FULL)
        if plots and drawable:  # a run stopped before its first record, or by a full disk, has nothing to draw
            best_effort(run, "plots", lambda: draw_run_plots(run) if plots is True else plots.draw(run.folder))
    return Outcome(run, status, exit_code, summary)


def record_outcome(
    run: Run, trainer: Trainer, status: str, extra: dict, wall_start: float, resumed_step=0, resumed_at=0.0
) -> dict:
    """How a run ended, in its summary.json and status.json (the test predictions of a finished classifier
    first): the summary, validated, so one readers would call damaged is never written. Its training time
    is the sum over the parts of a resumed run, each part listed."""
    setup, end = trainer.setup, trainer.pos
    if status == "completed" and setup.data.task == "classification":
        best_effort(run, "test predictions", lambda: save_test_predictions(run, setup))
    parts = earlier_parts(run, resumed_step, resumed_at) + [
        {"from_step": resumed_step, "to_step": end.step, "train_time_s": round(trainer.now - resumed_at, 3),
         "threads": torch.get_num_threads()}
    ]  # fmt: skip
    summary = summarize(run, setup, status, time.perf_counter() - wall_start, trainer.now, end)
    summary.update(extra, parts=parts)
    run.write_summary(summary)
    run.set_status(status, ended=now_iso(), step=end.step, **extra)
    return summary


def mark_running(run: Run, config: Config, step: int, ranks: dict | None) -> None:
    """status.json: `running` in this process, keeping when the run was first started and created."""
    previous = run.status()
    started, created = previous.get("started") or now_iso(), previous.get("created", time.time())
    run.set_status(
        "running",
        replace=True,
        **this_process(),  # the pid and its process's start: a reused pid is not this run's process
        started=started,
        created=created,
        step=step,
        **run_card(config, previous.get("study")),  # a resumed member stays in its study
        **({"distributed": ranks} if ranks else {}),
    )


def fit_and_classify(
    trainer: Trainer, progress, epochs: int, stop: StopFlag, error_log: Path | None
) -> tuple[str, int, dict]:
    """Fit, and name how it ended: (status, exit code, fields for status.json). A failure's traceback
    goes to error_log, or to stderr where there is none (a rank other than 0; not for a lost peer)."""
    try:
        with progress:
            trainer.fit(epochs, stop)
        return "completed", 0, {}
    except Diverged as exc:
        return "diverged", 1, {"error": str(exc), "diverged_at_step": exc.step}
    except Interrupted as exc:
        return "interrupted", 128 + exc.signum, {"error": str(exc)}
    except Pruned as exc:
        return "pruned", 0, {"pruned_at_step": exc.step}
    except KeyboardInterrupt:
        return "interrupted", 130, {"error": "stopped at once by a second SIGINT"}
    except OSError as exc:
        if not disk_full(exc):
            return failure(exc, trainer, error_log)
        folder = error_log.parent if error_log is not None else None
        return "failed", 1, {"error": disk_full_message(exc, folder)}  # no traceback: nothing to debug, no room
    except Exception as exc:
        return failure(exc, trainer, error_log)


def failure(exc: Exception, trainer: Trainer, error_log: Path | None) -> tuple[str, int, dict]:
    """A run that failed: its message, and the traceback in error_log (or on stderr where there is none)."""
    # another rank's death is no bug of this one: a line that says so, not gloo's message
    lost = lost_peer(exc) if trainer.setup.world.distributed else None
    message = lost or f"{type(exc).__name__}: {exc}"
    if error_log is None:
        if lost is None:
            traceback.print_exc()
        return "failed", 1, {"error": message}
    atomic_write_text(error_log, traceback.format_exc())
    return "failed", 1, {"error": f"{message} (traceback in {error_log})"}


def save_test_predictions(run: Run, setup: Setup, grid_images: int = 36) -> None:
    """Test labels, predictions and the first images, so plots can be redrawn without torch."""
    data, (test_x, test_y) = setup.data, setup.data.test_set  # the test set, also beside a validation split
    predicted = predict_labels(setup, test_x).cpu().numpy()
    images = test_x[:grid_images].cpu().numpy()
    save_predictions(run.path(RUN_FILES.predictions), test_y.cpu().numpy(), predicted, images[:, 0], data.class_names)


def best_effort(run: Run, what: str, write) -> None:
    """Extras written after training: a problem is reported, never turned into a failed run."""
    try:
        write()
    except Exception as exc:  # the run's metrics are intact; `dltool plot` can redraw
        print(f"warning: {what} for {run.id} not written ({type(exc).__name__}: {exc})", file=sys.stderr)


def draw_run_plots(run: Run) -> None:
    from dltool.plots.run import write_run_plots  # matplotlib: only runs that draw pay for it

    write_run_plots(run)


def follow(setup: Setup, config: Config, position: Position, run: Run, ranks: dict) -> Outcome:
    """A rank other than 0: the same training steps and collectives, nothing written and nothing shown
    (but for a run whose rank 0 died: see record_lost_main)."""
    ignore = lambda *args, **kwargs: None  # noqa: E731
    trainer = Trainer(
        setup,
        position,
        Hooks(ignore, ignore, ignore),
        config.train.eval_every_examples,
        config.train.checkpoint_every_steps,
    )
    with StopFlag() as stop:  # torchrun's SIGTERM to the survivors must not cut record_lost_main short
        status, exit_code, extra = fit_and_classify(trainer, contextlib.nullcontext(), config.train.epochs, stop, None)
        if status == "failed":
            print(f"rank {setup.world.rank}: {extra['error']}", file=sys.stderr)
            record_lost_main(run, ranks["ranks"][0])
    return Outcome(None, status, exit_code, {})


def record_lost_main(run: Run, main: dict) -> None:
    """Rank 0 records how its run ended. Where it died without doing so (killed), a rank on its machine
    marks the run failed, so plain torchrun leaves no run `running`; `dltool train --nproc`'s launcher
    does it instead, as it knows the signal."""
    if os.environ.get(LAUNCH_INFO) or main["host"] != socket.gethostname() or not run.folder.is_dir():
        return
    deadline = time.monotonic() + MAIN_EXIT_WAIT_S
    while pid_alive(main["pid"]):  # a living rank 0 records its own outcome
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    run.fail_if_running(f"rank 0 (pid {main['pid']}) died without recording how the run ended")
