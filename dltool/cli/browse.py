"""Commands that read stored runs and studies: `runs` (the table), `show` (one run or study), `plot`
and `export`. They never train, and never import torch.

'latest' names the newest top-level item: a study or a run that belongs to no study, never a member."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import RunsDir, fail, user_errors
from dltool.cli.runs_table import SORT_KEYS
from dltool.plots.axes import MetricChoice, PlotFormat, XAxis, canonical_metric
from dltool.store.status import RunStatus

ItemId = Annotated[
    str,
    typer.Argument(help="Run or study id, a unique prefix of one, or 'latest' (the newest study, or run outside one)."),
]


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ShowFormat(str, Enum):
    text = "text"
    json = "json"


SortKey = Enum("SortKey", {key: key for key in SORT_KEYS}, type=str)


class ExportFormat(str, Enum):
    tensorboard = "tensorboard"


@user_errors
def runs(
    status: Annotated[
        RunStatus | None, typer.Option(help="Only runs and studies with this status.", show_default=False)
    ] = None,
    model: Annotated[
        str | None, typer.Option(metavar="<name>", help="Only runs of this model (e.g. mlp), and studies with one.")
    ] = None,
    optimizer: Annotated[
        str | None,
        typer.Option(metavar="<name>", help="Only runs with this optimizer (e.g. adam), and studies with one."),
    ] = None,
    members: Annotated[bool, typer.Option("--members", help="Also list each study's member runs, under it.")] = False,
    format: Annotated[TableFormat, typer.Option("--format", help="csv and json are for scripts.")] = TableFormat.table,
    sort: Annotated[SortKey, typer.Option(help="Order: newest first, or by a result (best first).")] = SortKey.started,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N (a study counts once).")] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Runs and studies, newest first, as a table (or csv / json, every field typed). A study is one row:
    its kind, members done/total, status and best; --members lists its member runs too."""
    from dltool.cli.runs_table import Filters, Order, print_runs
    from dltool.store.run import RunStore

    filters = Filters(status.value if status else None, model, optimizer)
    print_runs(RunStore(runs_dir).root, filters, members, format.value, Order(sort.value, limit))


@user_errors
def plot(
    run_ids: Annotated[
        list[str],
        typer.Argument(help="Run ids, or one study id (unique prefixes and 'latest' work).", show_default=False),
    ],
    metric: Annotated[
        MetricChoice | None,
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
    from dltool.cli.views import plot_items
    from dltool.store.items import resolve_items
    from dltool.store.run import RunStore

    chosen = canonical_metric(metric.value) if metric else None
    asked = list(dict.fromkeys(fmt.value for fmt in formats)) if formats else None  # each format once
    root = RunStore(runs_dir).root
    items = resolve_items(root, run_ids)
    for path in plot_items(items, metric=chosen, x=x.value, logy=logy, out=out, formats=asked):
        typer.echo(str(path))


@user_errors
def export(
    item_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Run or study ids (a study: its member runs), prefixes, or 'latest'.", show_default=False),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every run in the runs folder.")] = False,
    format: Annotated[ExportFormat, typer.Option("--format", help="Export format.")] = ExportFormat.tensorboard,
    runs_dir: RunsDir = None,
) -> None:
    """Write stored runs' metrics in another tool's format (TensorBoard event files, in each run's folder):
    `tensorboard --logdir runs` then shows them all."""
    from dltool.store.items import read_listing, resolve_items
    from dltool.store.run import RunStore
    from dltool.store.study import StudyFolder
    from dltool.store.tensorboard import export_run

    if bool(item_ids) == every:
        fail("give run or study ids, or --all (not both)", 2)
    root = RunStore(runs_dir).root
    if every:
        runs = read_listing(root).runs
    else:
        listing = read_listing(root)
        items = resolve_items(root, list(item_ids))
        runs = [
            run for item in items for run in (listing.members[item.id] if isinstance(item, StudyFolder) else [item])
        ]
    if runs:
        typer.echo("wrote TensorBoard events to:")
    for run in {run.id: run for run in runs}.values():  # each once
        typer.echo(f"  {export_run(run)}")
    if runs:
        typer.echo(f"view them with: tensorboard --logdir {root}")


@user_errors
def show(
    item_id: ItemId,
    format: Annotated[ShowFormat, typer.Option("--format", help="json is for scripts.")] = ShowFormat.text,
    runs_dir: RunsDir = None,
) -> None:
    """One run (config, status, final metrics, timings) or one study (plan, progress, the verdict table,
    its member runs and files). 'latest' is the newest study, or run outside one."""
    from dltool.cli.run_view import print_run
    from dltool.cli.views import print_study
    from dltool.store.items import resolve_item
    from dltool.store.study import StudyFolder

    item = resolve_item(runs_dir, item_id)
    if format is ShowFormat.json:
        from dltool.cli.show_json import print_item_json

        print_item_json(item)
    elif isinstance(item, StudyFolder):
        print_study(item)
    else:
        print_run(item)
