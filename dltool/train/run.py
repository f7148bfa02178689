"""One training run from a config: build everything, make the run folder, fit, record the outcome.

Everything that can be wrong with the input (config, device, data) is found before the run folder
is made, so bad input leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import sys
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from dltool import __version__
from dltool.config import Config, dump_config, load_config
from dltool.data import build_dataset
from dltool.data.batches import EpochBatches
from dltool.errors import UsageError
from dltool.models import build_loss, build_model
from dltool.models.sync_batchnorm import synchronize_batch_norm
from dltool.optim import build_optimizer, build_schedule
from dltool.registry import MODELS, OPTIMIZERS
from dltool.store.files import atomic_write, atomic_write_json, atomic_write_text
from dltool.store.run import MetricsWriter, Run, RunStore, now_iso, pid_alive
from dltool.train.device import resolve_device, resolve_precision
from dltool.train.distributed import World, check_batches, check_distributed, lost_peer, rank_device
from dltool.train.engine import (
    Diverged,
    Hooks,
    Interrupted,
    Position,
    Setup,
    StopFlag,
    Trainer,
    predict_labels,
    set_host_rng_state,
)
from dltool.train.launch import LAUNCH_INFO, announce_run
from dltool.train.progress import make_progress

# Separate seeded streams for the data, the initial parameters and the data order.
SEED_STREAMS = {"data": 0, "init": 1_000_003, "order": 2_000_003}
# How long a rank that lost rank 0 waits for it to exit before deciding it died without a word
MAIN_EXIT_WAIT_S = 5.0


def stream_seed(seed: int, stream: str) -> int:
    return seed + SEED_STREAMS[stream]


@dataclass
class Outcome:
    run: Run
    status: str
    exit_code: int
    summary: dict


def build_setup(config: Config, world: World | None = None) -> Setup:
    world = world or World()
    setup = world.together(lambda: build_rank_setup(config, world))
    # DDP's constructor is the first collective: every rank has got this far
    setup.train_model = world.wrap(setup.model, setup.device, config.model.sync_bn)
    return setup


def build_rank_setup(config: Config, world: World) -> Setup:
    """Everything of this rank's Setup but the DDP wrapper; bad input raises UsageError here."""
    check_distributed(config, world.size)
    device = rank_device(resolve_device(config.device), config.device, world)
    traits = MODELS.get(config.model.name).traits
    precision = resolve_precision(config.precision, device, traits.prefers_bf16)
    torch.manual_seed(config.seed)
    data = build_dataset(config.data, stream_seed(config.seed, "data"))
    # channels_last lets oneDNN/cuDNN pick their fast conv kernels (DenseNet at 96: 1.3x in bf16 here).
    memory_format = torch.channels_last if traits.conv else torch.contiguous_format
    data = replace(data, memory_format=memory_format).to(device)
    model = build_model(config.model, data.input_shape, data.num_outputs, stream_seed(config.seed, "init"))
    if config.model.sync_bn:
        model = synchronize_batch_norm(model, config.model.name, device, world.distributed)
    model = model.to(device=device, memory_format=memory_format)
    optimizer = build_optimizer(config.optimizer, model.parameters())
    if world.distributed and OPTIMIZERS.get(config.optimizer.name).traits.second_order:
        raise UsageError(
            f"optimizer '{config.optimizer.name}' differentiates the gradient again, which DDP cannot; "
            "run it in one process"
        )
    check_batches(len(data.train_y), config.data.batch_size, world.size)
    batches = EpochBatches(len(data.train_y), config.data.batch_size, stream_seed(config.seed, "order"))
    scheduler = build_schedule(config.schedule, optimizer, len(batches), config.train.epochs)
    loss_fn = build_loss(data.task, config.model.impl)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    return Setup(model, loss_fn, optimizer, scheduler, data, batches, device, precision, scaler, world)


def environment(setup: Setup, config: Config) -> dict:
    from importlib.metadata import version

    import numpy

    device = setup.device
    return {
        "dltool": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": version("torchvision"),  # not imported: that alone takes 0.4 s
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine(),
        "precision": setup.precision,
        "seed": config.seed,
        "command": sys.argv,
        "world_size": setup.world.size,
    }


def run_card(config: Config) -> dict:
    """What `dltool runs` shows of a run's config, kept in status.json so listing needs no YAML."""
    return {
        "model": {"name": config.model.name, "impl": config.model.impl},
        "optimizer": {"name": config.optimizer.name, "impl": config.optimizer.impl},
    }


def save_checkpoint(run: Run, state: dict) -> None:
    """checkpoints/last.pt via a temporary file, fsync and rename: a crash never leaves half a file."""
    run.path("checkpoints").mkdir(exist_ok=True)
    atomic_write(run.path("checkpoints/last.pt"), lambda handle: torch.save(state, handle))


def read_checkpoint(run: Run) -> dict:
    """checkpoints/last.pt on the CPU (with several processes rank 0 reads it and sends it to the others)."""
    path = run.path("checkpoints/last.pt")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(
            f"run '{run.id}' has no checkpoint yet (checkpoints/last.pt); start it again instead"
        ) from None
    except Exception as exc:  # torch raises many kinds for a truncated or foreign file
        raise UsageError(f"{path}: not a readable dltool checkpoint ({type(exc).__name__}: {exc})") from None


def load_checkpoint(run: Run, state: dict, setup: Setup) -> Position:
    """Put `setup` where the checkpoint left it; load_state_dict moves each state to its device."""
    try:
        setup.model.load_state_dict(state["model"])
        setup.optimizer.load_state_dict(state["optimizer"])
        setup.scheduler.load_state_dict(state["scheduler"])
        setup.scaler.load_state_dict(state["scaler"])
        setup.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        set_host_rng_state(state["host_rng"])
        return Position(**state["position"])
    except Exception as exc:
        raise UsageError(
            f"{run.path('checkpoints/last.pt')}: not a readable dltool checkpoint of this run's model "
            f"({type(exc).__name__}: {exc})"
        ) from None


def summarize(
    run: Run, setup: Setup, status: str, wall_s: float, train_s: float, position: Position, new_examples: int
) -> dict:
    """Final and best metrics from the stored records; timings of this process (a resume counts its own)."""
    records = run.metrics()
    final: dict = {}
    for record in records:  # the last record of each split wins
        for key in ("loss", "acc"):
            if record.get(key) is not None:
                final[f"{record['split']}_{key}"] = record[key]
    evals = [r for r in records if r["split"] == setup.data.eval_split and r.get("loss") is not None]
    best = {}
    if evals:  # a diverging run's last loss is null (non-finite): the best is over the finite ones
        best[f"{setup.data.eval_split}_loss"] = min(r["loss"] for r in evals)
        accs = [r["acc"] for r in evals if r.get("acc") is not None]
        if accs:
            best[f"{setup.data.eval_split}_acc"] = max(accs)
    return {
        "status": status,
        "final": final,
        "best": best,
        "steps": position.step,
        "epochs": position.examples / len(setup.data.train_y),
        "examples": position.examples,
        "train_time_s": round(train_s, 3),
        "wall_time_s": round(wall_s, 3),
        "examples_per_s": round(new_examples / train_s, 1) if train_s > 0 else None,
        "eval_split": setup.data.eval_split,
    }


def execute(
    run: Run,
    setup: Setup,
    config: Config,
    position: Position,
    quiet: bool,
    plots: bool = True,
    ranks: dict | None = None,
) -> Outcome:
    """Fit and record how it ended: completed, diverged, interrupted or failed. plots=False leaves the
    run's pictures to `dltool plot` (a comparison draws its own, for all members at once). `ranks`
    (World.describe) says, with several processes, where each one runs."""
    wall_start = time.perf_counter()
    resumed_at, resumed_examples = position.elapsed, position.examples
    writers = open_writers(run, config)
    steps_per_epoch = len(setup.batches)
    total_steps = steps_per_epoch * config.train.epochs
    progress = make_progress(total_steps, steps_per_epoch, run.id, quiet=quiet)

    def record(metrics: dict) -> None:
        for writer in writers:
            writer.write(metrics)

    hooks = Hooks(record, lambda state: save_checkpoint(run, state), progress.update)
    trainer = Trainer(setup, position, hooks, config.train.eval_every_examples, config.train.checkpoint_every_steps)
    previous = run.status()
    started, created = previous.get("started") or now_iso(), previous.get("created", time.time())
    run.set_status(
        "running",
        replace=True,
        pid=os.getpid(),
        started=started,
        created=created,
        step=position.step,
        **run_card(config),
        **({"distributed": ranks} if ranks else {}),
    )
    with StopFlag() as stop:
        status, exit_code, extra = fit_and_classify(trainer, progress, config.train.epochs, stop, run.path("error.log"))
        stop.finishing = True  # from here a Ctrl-C must not leave the run half-recorded
        for writer in writers:
            writer.close()
        if status == "completed" and setup.data.task == "classification":
            best_effort(run, "test predictions", lambda: save_test_predictions(run, setup))
        position = trainer.pos
        train_s = trainer.now - resumed_at
        new_examples = position.examples - resumed_examples
        summary = summarize(run, setup, status, time.perf_counter() - wall_start, train_s, position, new_examples)
        summary.update(extra)
        atomic_write_json(run.path("summary.json"), summary)
        run.set_status(status, ended=now_iso(), step=position.step, **extra)
        if plots and run.metrics():  # a run stopped before its first record has nothing to draw
            from dltool.plots.run import write_run_plots

            best_effort(run, "plots", lambda: write_run_plots(run))
    return Outcome(run, status, exit_code, summary)


def open_writers(run: Run, config: Config) -> list:
    writers = [MetricsWriter(run.folder)]
    if config.train.tensorboard:
        from dltool.store.tensorboard import TensorBoardWriter

        writers.append(TensorBoardWriter(run.path("tensorboard")))
    return writers


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
    except KeyboardInterrupt:
        return "interrupted", 130, {"error": "stopped at once by a second SIGINT"}
    except Exception as exc:
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
    from dltool.plots.predictions import save_predictions

    data = setup.data
    predicted = predict_labels(setup, data.eval_x).cpu().numpy()
    images = data.eval_x[:grid_images].cpu().numpy()
    save_predictions(run.path("predictions.npz"), data.eval_y.cpu().numpy(), predicted, images[:, 0], data.class_names)


def best_effort(run: Run, what: str, write) -> None:
    """Extras written after training: a problem is reported, never turned into a failed run."""
    try:
        write()
    except Exception as exc:  # the run's metrics are intact; `dltool plot` can redraw
        print(f"warning: {what} for {run.id} not written ({type(exc).__name__}: {exc})", file=sys.stderr)


def train(
    config: Config, runs_dir: Path | None = None, quiet: bool = False, plots: bool = True, world: World | None = None
) -> Outcome:
    """A new run of `config` in a new folder under runs_dir (made by rank 0 alone)."""
    world = world or World()
    if config.train.tensorboard:
        from dltool.store.tensorboard import require_tensorboard

        require_tensorboard()
    setup = build_setup(config, world)
    ranks = world.describe() if world.distributed else None

    def create_run() -> Run:
        run = RunStore(runs_dir).create(config.label, config.optimizer.name)
        atomic_write_text(run.path("config.yaml"), dump_config(config))
        atomic_write_json(run.path("env.json"), environment(setup, config))
        run.set_status("running", pid=os.getpid(), started=now_iso(), created=time.time(), step=0, **run_card(config))
        announce_run(run)
        return run

    run = world.from_main(create_run)
    if not world.is_main:
        return follow(setup, config, Position(), run, ranks)
    return execute(run, setup, config, Position(), quiet, plots, ranks)


def resumable_run(run_id: str, runs_dir: Path | None) -> tuple[Run, Config]:
    run = RunStore(runs_dir).resolve(run_id)
    shown = run.shown_status()
    if shown not in ("interrupted", "failed", "crashed"):
        raise UsageError(f"run '{run.id}' is {shown}; only interrupted, failed or crashed runs can be resumed")
    return run, load_config(run.path("config.yaml"))


def resume(run_id: str, runs_dir: Path | None = None, quiet: bool = False, world: World | None = None) -> Outcome:
    """Continue an interrupted, failed or crashed run from its last checkpoint, in its own folder."""
    world = world or World()

    def locate() -> tuple[Run, Config, dict]:
        run, config = resumable_run(run_id, runs_dir)
        return run, config, read_checkpoint(run)

    run, config, state = world.from_main(locate)
    setup = build_setup(config, world)
    position = world.together(lambda: load_checkpoint(run, state, setup))
    ranks = world.describe() if world.distributed else None
    if not world.is_main:
        return follow(setup, config, position, run, ranks)
    announce_run(run)
    run.truncate_metrics(position.step)  # records written after the checkpoint will be written again
    return execute(run, setup, config, position, quiet, ranks=ranks)
