"""The dltool command line: parse, build the config, call one library function, print the outcome.

torch is imported only inside the commands that need it, so `dltool --help` answers at once.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from dltool.errors import DltoolError

app = typer.Typer(
    help="Run, compare and browse the classic Dive into Deep Learning experiments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RunsDir = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Folder of runs (default: $DLTOOL_RUNS_DIR or ./runs).", show_default=False),
]


def fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(command):
    """Turn a DltoolError into its message and exit code: users never see a traceback for bad input."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except DltoolError as exc:
            if getattr(exc, "reported_elsewhere", False):  # rank 0 of a torchrun job prints it
                raise typer.Exit(exc.exit_code) from None
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


@app.command()
@user_errors
def train(
    config: Annotated[Path | None, typer.Argument(help="YAML config (see configs/).", show_default=False)] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key: --set optimizer.lr=0.01 (repeatable).", show_default=False),
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda, cuda:N or mps.", show_default=False)] = None,
    resume: Annotated[
        str | None,
        typer.Option(help="Continue an interrupted or crashed run from its checkpoint.", show_default=False),
    ] = None,
    runs_dir: RunsDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    nproc: Annotated[
        int | None,
        typer.Option(
            min=1, help="Data-parallel processes on this machine (DDP, launched like torchrun).", show_default=False
        ),
    ] = None,
) -> None:
    """Train one model from a config; the run is stored in runs/<run-id>/."""
    from dltool.config import load_config

    if resume is not None and (config is not None or set_ or device):
        fail("--resume continues a run with its saved config; give no CONFIG, --set or --device with it", 2)
    if resume is None and config is None:
        fail("give a CONFIG file (e.g. configs/mlp_torch.yaml) or --resume RUN_ID", 2)
    overrides = list(set_ or []) + ([f"device={device}"] if device else [])
    if nproc is not None and nproc > 1:
        launch_ranks(nproc, config, overrides, resume, runs_dir, quiet)
    from dltool.train import run as training
    from dltool.train.distributed import join_world

    world = join_world()
    if resume is not None:
        outcome = training.resume(resume, runs_dir, quiet=quiet, world=world)
    else:
        outcome = training.train(load_config(config, overrides), runs_dir, quiet=quiet, world=world)
    if world.is_main:
        report_outcome(outcome)
    elif outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


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
    from dltool.cli.report import outcome_lines

    for line in outcome_lines(outcome.run, outcome.summary):
        typer.echo(line, err=outcome.exit_code != 0)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def comma_list(option: str, text: str | None, kind: type, choices: tuple[str, ...] = ()) -> tuple:
    """'0.3,1,3' -> (0.3, 1.0, 3.0) for a comma-separated option; a bad item is a usage error."""
    if text is None:
        return ()
    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        values = tuple(kind(item) for item in items)
    except ValueError:
        fail(f"{option} '{text}': expected comma-separated {'numbers' if kind is not str else 'names'}", 2)
    if not values:
        fail(f"{option} is empty; give comma-separated values, e.g. {option} {','.join(choices[:2]) or '1,2'}", 2)
    if kind is not str and any(value <= 0 for value in values):
        fail(f"{option} '{text}': every value must be positive", 2)
    bad = [value for value in values if choices and value not in choices]
    if bad:
        fail(f"{option}: '{bad[0]}' is not one of {', '.join(choices)}", 2)
    if len(set(values)) < len(values):
        fail(f"{option} '{text}' repeats a value", 2)
    return values


@app.command("compare-optimizers")
@user_errors
def compare_optimizers(
    config: Annotated[
        Path | None,
        typer.Argument(help="A train config to compare optimizers on (default: --problem).", show_default=False),
    ] = None,
    problem: Annotated[
        str | None,
        typer.Option(
            help="airfoil (default), fashion-mnist, quadratic2d, bowl2d, square1d, xcos1d or cosh1d.",
            show_default=False,
        ),
    ] = None,
    optimizers: Annotated[
        str | None, typer.Option(help="Comma-separated optimizers (default: the problem's).", show_default=False)
    ] = None,
    impl: Annotated[str, typer.Option("--impl", help="Comma-separated implementations.")] = "scratch,torch",
    seeds: Annotated[int, typer.Option(min=1, help="Repeat every member with this many seeds (mean ± std).")] = 1,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, help="Parallel member processes (default: one per CPU core).", show_default=False),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key for every member (repeatable).", show_default=False),
    ] = None,
    lr_scale: Annotated[
        str | None,
        typer.Option(help="Learning-rate multiples, e.g. 0.3,1,3 (sensitivity plot).", show_default=False),
    ] = None,
    batch_sizes: Annotated[
        str | None,
        typer.Option(help="Batch sizes, e.g. 1500,1,10,100 (the notes' GD vs SGD vs minibatch).", show_default=False),
    ] = None,
    target_loss: Annotated[
        float | None,
        typer.Option(help="Loss for 'time to target' (default: best final loss + 10%).", show_default=False),
    ] = None,
    runs_dir: RunsDir = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-member progress lines.")] = False,
) -> None:
    """Compare optimizers (scratch and torch.optim) on one problem; tables and plots in runs/<comparison-id>/."""
    if jobs != 1:
        from dltool.train.workers import start_workers_early

        start_workers_early()  # first: the worker server's imports then overlap everything below
    from dltool.study.compare import compare_optimizers as run
    from dltool.study.plan import IMPLS, PlanRequest

    request = PlanRequest(
        config_path=config,
        problem=problem,
        optimizers=comma_list("--optimizers", optimizers, str),
        impls=comma_list("--impl", impl, str, IMPLS),
        seeds=seeds,
        lr_scales=comma_list("--lr-scale", lr_scale, float),
        batch_sizes=comma_list("--batch-sizes", batch_sizes, int),
        overrides=tuple(set_ or []),
    )
    report = run(request, runs_dir, jobs=jobs, quiet=quiet, target=target_loss)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command()
@user_errors
def runs(
    status: Annotated[
        str | None,
        typer.Option(help="Only runs with this status (running, completed, failed, diverged, interrupted, crashed)."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only runs of this model (e.g. mlp).")] = None,
    optimizer: Annotated[str | None, typer.Option(help="Only runs with this optimizer (e.g. adam).")] = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json (for scripts).")] = "table",
    runs_dir: RunsDir = None,
) -> None:
    """Runs, newest first, as a table (or csv / json)."""
    from dltool.cli.report import print_runs
    from dltool.store.run import RunStore

    print_runs(RunStore(runs_dir), status=status, model=model, optimizer=optimizer, fmt=format)


@app.command()
@user_errors
def plot(
    run_ids: Annotated[
        list[str], typer.Argument(help="Run ids (unique prefixes and 'latest' work).", show_default=False)
    ],
    metric: Annotated[str | None, typer.Option(help="loss, acc or lr.", show_default=False)] = None,
    x: Annotated[str, typer.Option("--x", help="epoch, step, examples or time.")] = "epoch",
    logy: Annotated[bool, typer.Option("--logy", help="Logarithmic y axis.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Output file; .png, .svg or .pdf by extension.", show_default=False)
    ] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Plot runs from their stored metrics: one run -> its curves in its plots/; several -> an overlay."""
    from dltool.cli.report import plot_command
    from dltool.store.run import RunStore

    for path in plot_command(RunStore(runs_dir), run_ids, metric=metric, x=x, logy=logy, out=out):
        typer.echo(str(path))


@app.command()
@user_errors
def export(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")],
    format: Annotated[str, typer.Option("--format", help="Export format: tensorboard.")] = "tensorboard",
    runs_dir: RunsDir = None,
) -> None:
    """Write a stored run's metrics in another tool's format (TensorBoard event files)."""
    from dltool.store.run import RunStore

    if format != "tensorboard":
        fail(f"--format '{format}': the export format is 'tensorboard'", 2)
    from dltool.store.tensorboard import export_run

    folder = export_run(RunStore(runs_dir).resolve(run_id))
    typer.echo(f"wrote TensorBoard events to {folder} (view with: tensorboard --logdir {folder})")


@app.command()
@user_errors
def show(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")],
    runs_dir: RunsDir = None,
) -> None:
    """Config, status, final metrics and timings of one run."""
    from dltool.cli.report import print_run
    from dltool.store.run import RunStore

    print_run(RunStore(runs_dir).resolve(run_id))


@app.command()
@user_errors
def model(
    config: Annotated[Path, typer.Argument(help="YAML config whose model and data define the table.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a config key (repeatable).", show_default=False)
    ] = None,
    depth: Annotated[int, typer.Option(min=1, help="How deep to list nested layers.")] = 2,
) -> None:
    """Layer table of the configured model for its input size: output shapes, parameter counts, totals."""
    from dltool.cli.report import print_layer_table
    from dltool.config import load_config
    from dltool.models.layers import describe_model

    title, rows = describe_model(load_config(config, list(set_ or [])), depth)
    print_layer_table(title, rows)


def main() -> None:
    """The console entry point. Everything is on disk when a command returns (files are written
    atomically and closed), so the process ends there: Python's own teardown of torch's and
    matplotlib's modules would add 0.4-0.9 s to every command that trained or drew."""
    try:
        app(prog_name="dltool")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    from dltool.train.launch import tell_launcher

    tell_launcher(exit_code=code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
