"""`dltool report`: one run or study as a self-contained report.html (pictures, tables, config, versions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.browse import ItemId
from dltool.cli.common import RunsDir, user_errors


@user_errors
def report(
    item_id: ItemId,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the page (default: report.html in the item's folder).", show_default=False),
    ] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Write one run or study as a single self-contained HTML page (its pictures inlined, no network needed to
    view it) and print its path. Pictures missing from its plots/ are drawn first."""
    from dltool.store.items import resolve_item
    from dltool.store.study import StudyFolder

    item = resolve_item(runs_dir, item_id)
    if isinstance(item, StudyFolder):
        from dltool.study.kinds import current_tables
        from dltool.study.page import write_study_page

        typer.echo(str(write_study_page(item, current_tables(item), out or item.path("report.html"))))
    else:
        from dltool.plots.report_page import write_run_report

        typer.echo(str(write_run_report(item, out)))
