"""Commands that read stored runs and studies: `runs` (the table), `show` (one run or study), `plot`
and `export`. They never train, and never import torch.

'latest' names the newest top-level item: a study or a run that belongs to no study, never a member."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import RunsDir, user_errors
from dltool.plots.axes import Metric, PlotFormat, XAxis
from dltool.store.status import RunStatus

RunId = Annotated[str, typer.Argument(help="Run id, a unique prefix of one, or 'latest'.")]
ItemId = Annotated[
    str,
    typer.Argument(help="Run or study id, a unique prefix of one, or 'latest' (the newest study, or run outside one)."),
]


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(str, Enum):
    tensorboard = "tensorboard"


@user_errors
def runs(
    status: Annotated[
        RunStatus | None, typer.Option(help="Only runs and studies with this status.", show_default=False)
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only runs of this model (e.g. mlp), and studies with one.")] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="Only runs with this optimizer (e.g. adam), and studies with one.")
    ] = None,
    members: Annotated[bool, typer.Option("--members", help="Also list each study's member runs, under it.")] = False,
    format: Annotated[TableFormat, typer.Option("--format", help="csv and json are for scripts.")] = TableFormat.table,
    runs_dir: RunsDir = None,
) -> None:
    """Runs and studies, newest first, as a table (or csv / json). A study (compare-optimizers) is one row:
    its kind, members done/total, status and winner; --members lists its member runs too."""
    from dltool.cli.runs_table import Filters, print_runs
    from dltool.store.run import RunStore

    filters = Filters(status.value if status else None, model, optimizer)
    print_runs(RunStore(runs_dir).root, filters, members=members, fmt=format.value)


@user_errors
def plot(
    run_ids: Annotated[
        list[str],
        typer.Argument(help="Run ids, or one study id (unique prefixes and 'latest' work).", show_default=False),
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
    """Plot runs from their stored metrics: one run -> its curves in its plots/; several -> an overlay;
    a study -> its pictures redrawn into its plots/. 'latest' is the newest study, or run outside one."""
    from dltool.cli.report import plot_items
    from dltool.store.items import resolve_items
    from dltool.store.run import RunStore

    chosen = metric.value if metric else None
    asked = list(dict.fromkeys(fmt.value for fmt in formats)) if formats else None  # each format once
    root = RunStore(runs_dir).root
    items = resolve_items(root, run_ids)
    for path in plot_items(items, root, metric=chosen, x=x.value, logy=logy, out=out, formats=asked):
        typer.echo(str(path))


@user_errors
def export(
    run_id: RunId,
    format: Annotated[ExportFormat, typer.Option("--format", help="Export format.")] = ExportFormat.tensorboard,
    runs_dir: RunsDir = None,
) -> None:
    """Write a stored run's metrics in another tool's format (TensorBoard event files)."""
    from dltool.store.items import resolve_run
    from dltool.store.tensorboard import export_run

    folder = export_run(resolve_run(runs_dir, run_id, "dltool export"))
    typer.echo(f"wrote TensorBoard events to {folder} (view with: tensorboard --logdir {folder})")


@user_errors
def show(item_id: ItemId, runs_dir: RunsDir = None) -> None:
    """One run (config, status, final metrics, timings) or one study (plan, progress, the verdict table,
    its member runs and files). 'latest' is the newest study, or run outside one."""
    from dltool.cli.report import print_run, print_study
    from dltool.store.items import resolve_item
    from dltool.store.study import StudyFolder

    item = resolve_item(runs_dir, item_id)
    if isinstance(item, StudyFolder) and item.kind == "profile":
        from dltool.cli.sweep_report import print_profile

        print_profile(item)
    elif isinstance(item, StudyFolder) and item.kind != "compare":
        from dltool.cli.sweep_report import print_study_results

        print_study_results(item)
    elif isinstance(item, StudyFolder):
        print_study(item)
    else:
        print_run(item)
