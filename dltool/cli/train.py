"""`dltool train` (one run, or --nproc ranks of one run) and `dltool model` (a config's layer table).

torch is imported inside the commands, never at the top: `dltool --help` must not pay for it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import Quiet, RunsDir, SetOptions, config_argument, fail, user_errors
from dltool.shipped import resolve_config

TrainConfig = Annotated[
    Path | None, config_argument("YAML config: a path, or a shipped config's name (dltool configs).")
]
Device = Annotated[
    str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", show_default=False, metavar="<device>")
]
Threads = Annotated[
    str | None,
    typer.Option(
        help="Torch threads: a number, or auto (a share of the cores among the runs alive when it "
        "starts; kept on resume).",
        show_default=False,
        metavar="<n|auto>",
    ),
]
ResumeRun = Annotated[
    str | None,
    typer.Option(
        help="Continue an interrupted or crashed run from its checkpoint.", show_default=False, metavar="<run-id>"
    ),
]
Nproc = Annotated[
    int | None,
    typer.Option(
        min=1, help="Data-parallel processes on this machine (DDP, launched like torchrun).", show_default=False
    ),
]


@user_errors
def train(
    config: TrainConfig = None,
    set_: SetOptions = None,
    device: Device = None,
    threads: Threads = None,
    resume: ResumeRun = None,
    runs_dir: RunsDir = None,
    quiet: Quiet = False,
    nproc: Nproc = None,
) -> None:
    """Train one model from a config; the run is stored in runs/<run-id>/."""
    if resume is not None and (config is not None or set_ or device or threads):
        fail("--resume continues a run with its saved config; give no CONFIG, --set, --device or --threads with it", 2)
    if resume is None and config is None:
        fail("give a CONFIG file (e.g. configs/mlp_torch.yaml) or --resume RUN_ID", 2)
    overrides = list(set_ or []) + [
        f"{key}={value}" for key, value in (("device", device), ("threads", threads)) if value
    ]
    if nproc is not None and nproc > 1:
        launch_ranks(nproc, config, overrides, resume, runs_dir, quiet)
    run_here(config, overrides, resume, runs_dir, quiet)


def run_here(config: Path | None, overrides: list[str], resume: str | None, runs_dir: Path | None, quiet: bool) -> None:
    """This process is the run, or (under torchrun) one rank of it; rank 0 reports the outcome."""
    plotter = start_plotting()  # first: its processes import matplotlib while this one imports torch
    from dltool.config import load_config
    from dltool.train import run as training
    from dltool.train.distributed import join_world

    world = join_world()
    plots = plotter or True
    try:
        if resume is not None:
            outcome = training.resume(resume, runs_dir, quiet=quiet, world=world, plots=plots)
        else:
            outcome = training.train(load_config(config, overrides), runs_dir, quiet=quiet, world=world, plots=plots)
    finally:
        if plotter is not None:
            plotter.close()
    if world.is_main:
        report_outcome(outcome)
    elif outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def start_plotting():
    """Plotting processes for the run's pictures (dltool.plots.processes), which pay off by importing
    matplotlib while this process imports torch. Where torch is imported already (a test harness, a
    notebook calling the app) there is nothing to overlap, and with several processes rank 0 draws its
    pictures itself."""
    if "torch" in sys.modules or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return None
    from dltool.plots.processes import PlotProcesses

    return PlotProcesses.start()


def launch_ranks(
    nproc: int, config: Path | None, overrides: list[str], resume: str | None, runs_dir, quiet: bool
) -> None:
    """`train --nproc N`: check the input once here, then start N ranks running the same command."""
    from dltool.train.launch import check_launch, launch

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        fail("--nproc starts its own processes; under torchrun leave it out", 2)
    check_launch(nproc, config, overrides, resume, runs_dir)
    args = ["train", *(["--resume", resume] if resume else [str(config)])]
    args += [arg for override in overrides for arg in ("--set", override)]
    args += (["--runs-dir", str(runs_dir)] if runs_dir else []) + (["--quiet"] if quiet else [])
    raise typer.Exit(launch(nproc, args))


def report_outcome(outcome) -> None:
    from dltool.cli.run_view import outcome_lines

    for line in outcome_lines(outcome.run, outcome.summary):
        typer.echo(line, err=outcome.exit_code != 0)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


@user_errors
def model(
    config: Annotated[
        Path, typer.Argument(help="YAML config whose model and data define the table.", callback=resolve_config)
    ],
    set_: SetOptions = None,
    depth: Annotated[int, typer.Option(min=1, help="How deep to list nested layers.")] = 2,
) -> None:
    """Layer table of the configured model for its input size: output shapes, parameter counts, totals."""
    from dltool.cli.views import print_layer_table
    from dltool.config import load_config
    from dltool.models.layers import describe_model

    title, rows = describe_model(load_config(config, list(set_ or [])), depth)
    print_layer_table(title, rows)
