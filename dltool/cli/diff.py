"""`dltool diff A B`: the config keys that differ and the final metrics side by side, for two runs or
two studies. dltool.study.diff finds the differences; this module prints them."""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dltool.cli.common import RunsDir, user_errors
from dltool.text import printable

if TYPE_CHECKING:
    from dltool.study.diff import Diff, KeyDiff, MetricRow

ItemId = Annotated[str, typer.Argument(help="A run or study id, a unique prefix of one, or 'latest'.")]


class DiffFormat(str, Enum):
    table = "table"
    json = "json"


@user_errors
def diff(
    a: ItemId,
    b: ItemId,
    format: Annotated[DiffFormat, typer.Option("--format", help="json is for scripts.")] = DiffFormat.table,
    runs_dir: RunsDir = None,
) -> None:
    """Config keys that differ (A's value, B's value) and final metrics side by side with B - A,
    for two runs or two studies."""
    from dltool.study.diff import diff_items

    found = diff_items(runs_dir, a, b)
    if format is DiffFormat.json:
        typer.echo(json.dumps(found.to_json(), indent=2))
    else:
        print_diff(found)


def shown(value: Any) -> str:
    from dltool.text import format_value

    return format_value(value) if not isinstance(value, float) else f"{value:.6g}"


def shown_metric(value: Any) -> str:
    """A metric as every command prints numbers: thousands separated (6,446.1 examples/s; 7,500 steps)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return shown(value) if value is not None else "-"
    return f"{value:,.6g}" if isinstance(value, float) else f"{value:,}"


def shown_delta(row: MetricRow) -> str:
    delta = row.delta
    if delta is None:
        return ""
    return f"{delta:+,.6g}" if isinstance(delta, float) else f"{delta:+,}"


def config_cells(key: KeyDiff) -> tuple[str, str, str]:
    a = "(not in A)" if key.only == "b" else shown(key.a)
    b = "(not in B)" if key.only == "a" else shown(key.b)
    return key.key, a, b


def print_diff(found: Diff) -> None:
    """The header lines, the differing keys (or 'same config') and the metrics table."""
    from rich.table import Table
    from rich.text import Text

    from dltool.cli.views import make_console

    console = make_console()
    console.print(f"A: {found.a_id}\nB: {found.b_id}", markup=False, highlight=False)
    what = "config" if found.kind == "run" else "study header"
    if found.config:
        count = len(found.config)
        console.print(f"{what}: {count} {'key differs' if count == 1 else 'keys differ'}")
        table = Table()
        for heading in ("key", "A", "B"):
            table.add_column(heading)
        for key in found.config:
            table.add_row(*(Text(printable(cell)) for cell in config_cells(key)))
        console.print(table)
    else:
        console.print("same config" if found.kind == "run" else "same config (the study headers match)")
    console.print(metrics_table(found))


def metrics_table(found: Diff):
    """One row per metric; a study's rows are its groups' (mean over seeds), the group named once."""
    from rich.table import Table
    from rich.text import Text

    study = found.kind == "study"
    title = "groups (means over seeds)" if study else "final metrics"
    table = Table(title=title, title_justify="left")
    for heading in (("group",) if study else ()) + ("metric", "A", "B", "B - A"):
        table.add_column(heading, justify="right" if heading in ("A", "B", "B - A") else "left")
    previous = None
    for row in found.metrics:
        cells = [row.name, shown_metric(row.a), shown_metric(row.b)]
        cells.append(shown_delta(row))
        if study:
            cells.insert(0, row.group if row.group != previous else "")
            previous = row.group
        table.add_row(*(Text(printable(cell)) for cell in cells))
    return table
