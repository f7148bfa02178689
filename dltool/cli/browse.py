"""Commands that read stored runs: `runs` (the table), `show` (one run), `plot` and `export`.
They never train, and never import torch."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import RunsDir, user_errors
from dltool.plots.axes import Metric, PlotFormat, XAxis
from dltool.store.status import RunStatus

RunId = Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")]


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(str, Enum):
    tensorboard = "tensorboard"


@user_errors
def runs(
    status: Annotated[RunStatus | None, typer.Option(help="Only runs with this status.", show_default=False)] = None,
    model: Annotated[str | None, typer.Option(help="Only runs of this model (e.g. mlp).")] = None,
    optimizer: Annotated[str | None, typer.Option(help="Only runs with this optimizer (e.g. adam).")] = None,
    format: Annotated[TableFormat, typer.Option("--format", help="csv and json are for scripts.")] = TableFormat.table,
    runs_dir: RunsDir = None,
) -> None:
    """Runs, newest first, as a table (or csv / json)."""
    from dltool.cli.report import print_runs
    from dltool.store.run import RunStore

    chosen = status.value if status else None
    print_runs(RunStore(runs_dir), status=chosen, model=model, optimizer=optimizer, fmt=format.value)


@user_errors
def plot(
    run_ids: Annotated[
        list[str], typer.Argument(help="Run ids (unique prefixes and 'latest' work).", show_default=False)
    ],
    metric: Annotated[
        Metric | None,
        typer.Option(help="What to plot (default: a run's standard pictures, or loss).", show_default=False),
    ] = None,
    x: Annotated[XAxis, typer.Option("--x", help="The quantity on the x axis.")] = XAxis.epoch,
    logy: Annotated[bool, typer.Option("--logy", help="Logarithmic y axis.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Output file; .png, .svg or .pdf by extension.", show_default=False)
    ] = None,
    formats: Annotated[
        list[PlotFormat] | None,
        typer.Option(
            "--format",
            help="Format of the pictures (default: png); repeat for several: --format png --format svg. "
            "--out goes by its extension.",
            show_default=False,
        ),
    ] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Plot runs from their stored metrics: one run -> its curves in its plots/; several -> an overlay."""
    from dltool.cli.report import plot_command
    from dltool.store.run import RunStore

    chosen = metric.value if metric else None
    asked = list(dict.fromkeys(fmt.value for fmt in formats)) if formats else None  # each format once
    store = RunStore(runs_dir)
    for path in plot_command(store, run_ids, metric=chosen, x=x.value, logy=logy, out=out, formats=asked):
        typer.echo(str(path))


@user_errors
def export(
    run_id: RunId,
    format: Annotated[ExportFormat, typer.Option("--format", help="Export format.")] = ExportFormat.tensorboard,
    runs_dir: RunsDir = None,
) -> None:
    """Write a stored run's metrics in another tool's format (TensorBoard event files)."""
    from dltool.store.run import RunStore
    from dltool.store.tensorboard import export_run

    folder = export_run(RunStore(runs_dir).resolve(run_id))
    typer.echo(f"wrote TensorBoard events to {folder} (view with: tensorboard --logdir {folder})")


@user_errors
def show(run_id: RunId, runs_dir: RunsDir = None) -> None:
    """Config, status, final metrics and timings of one run."""
    from dltool.cli.report import print_run
    from dltool.store.run import RunStore

    print_run(RunStore(runs_dir).resolve(run_id))
