"""What the terminal shows about runs and studies: the end-of-run lines, one run in detail, the verdict
table, one study in detail (the runs table: cli/runs_table.py), and what `dltool plot` draws.

Reads run and study folders only (never imports torch), so browsing runs is quick.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dltool.cli.fit import fitting_columns
from dltool.errors import DltoolError, UsageError
from dltool.store.items import Item
from dltool.store.run import RUN_FILES, Run, RunSnapshot
from dltool.store.study import STUDY_FILES, StudyFolder, StudyRecord
from dltool.study.tables import shown_groups, table_rows, verdict_line

if TYPE_CHECKING:
    from dltool.study.compare import Report
    from dltool.study.results import Verdict


def make_console() -> Console:
    """A terminal's own width; piped output (files, scripts) gets wide lines instead of squeezed cells,
    unless COLUMNS says how wide."""
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = 200
    return console


def plot_items(items: list[Item], metric: str | None, x: str, logy: bool, out, formats) -> list[Path]:
    """A study alone and no options: its pictures redrawn. Runs: see plot_command."""
    studies = [item for item in items if isinstance(item, StudyFolder)]
    if not studies:
        return plot_command(items, metric, x, logy, out, formats)
    study = studies[0]
    if len(items) > 1 or metric or x != "epoch" or logy or out is not None or formats not in (None, ["png"]):
        raise UsageError(
            f"'{study.id}' is a {study.noun}: 'dltool plot {study.id}' alone redraws its pictures (PNG); "
            f"to overlay or choose what to draw, give run ids ('dltool show {study.id}' lists its members)"
        )
    from dltool.study.figures import redraw_plots  # numpy and matplotlib: only when something is drawn

    paths = redraw_plots(study)
    if not paths:
        raise DltoolError(f"{study.noun} '{study.id}': its pictures were not drawn (see the warning above)")
    return paths


def plot_command(
    runs: list[Run], metric: str | None, x: str, logy: bool, out, formats: list[str] | None = None
) -> list:
    """One run and no options: its standard pictures. Otherwise one overlay figure. Each run's files
        are read once, into a snapshot; metric and x are choices the command line and the overlay check.
        `formats` ('png', 'svg', 'pdf'; PNG when None) are those of the pictures drawn into plots/ folders;
        --out names its own by extension (an overlay without --out goes into the first run's plots/, named
    after the other runs)."""
    # the plot modules (numpy, matplotlib) load only when something is drawn
    from dltool.plots.figure import save_figure_formats
    from dltool.plots.overlay import build_overlay, plot_overlay
    from dltool.plots.run import default_formats, write_snapshot_plots

    check_out(out, formats)
    snapshots = [run.snapshot() for run in runs]
    for snapshot in snapshots:
        check_metrics(snapshot)
    formats = formats or default_formats()
    if len(snapshots) == 1 and metric is None and x == "epoch" and not logy and out is None:
        return write_snapshot_plots(snapshots[0], formats)
    metric = metric or "loss"
    if out is not None:
        return [plot_overlay(snapshots, metric=metric, x=x, logy=logy, out=Path(out))]
    figure = build_overlay(snapshots, metric=metric, x=x, logy=logy)
    return save_figure_formats(figure, runs[0].path(RUN_FILES.plots) / overlay_name(runs, metric, x), formats)


def overlay_name(runs: list[Run], metric: str, x: str) -> str:
    """'loss-vs-epoch-with-5aa8-baea': in the first run's plots/, named by the others' id endings, so one
    overlay never overwrites another's picture."""
    others = [run.id.rsplit("-", 1)[-1] for run in runs[1:]]
    if len(others) > 4:  # a short name that still differs from every other overlay's
        import hashlib

        others = [f"{len(others)}-runs", hashlib.sha256(" ".join(r.id for r in runs).encode()).hexdigest()[:8]]
    return "-".join([f"{metric}-vs-{x}", *(["with", *others] if others else [])])


def check_out(out, formats: list[str] | None) -> None:
    """--out names a picture file, in the one format its extension says: --format may only agree with it."""
    from dltool.plots.figure import FORMATS

    if out is None:
        return
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--out '{out}': the file name must end in {', '.join(FORMATS)}")
    if formats and formats != [suffix[1:]]:
        raise UsageError(
            f"--out '{out}' is a {suffix[1:]} file but --format asks for {', '.join(formats)}; "
            "--out takes its format from its extension, so leave --format out or make them agree"
        )


def check_metrics(snapshot: RunSnapshot) -> None:
    """A run's valid records are drawn; skipped ones are counted on stderr; none at all is an error."""
    import sys

    skipped = snapshot.damage_of(RUN_FILES.metrics)
    if not snapshot.metrics:
        why = f"{skipped}; no valid record is left" if skipped else "it has no metrics yet"
        raise UsageError(f"run '{snapshot.id}': nothing to plot ({why})")
    if skipped:
        print(f"warning: run {snapshot.id}: {skipped}; plotting the others", file=sys.stderr)


def print_layer_table(title: str, rows) -> None:
    """The rows of dltool.models.layers.layer_table as a table."""
    console = make_console()
    console.print(title)
    table = Table()
    for column, justify in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("parameters", "right")):
        table.add_column(column, justify=justify)
    for row in rows:
        shape = "×".join(str(n) for n in row.output_shape) if row.output_shape else "-"
        name = ("  " * max(row.depth - 1, 0)) + row.name
        style = "bold" if row.name == "total" else None
        table.add_row(name, row.kind, shape, f"{row.params:,}", style=style)
    console.print(table)


# The verdict table's columns a narrow terminal drops first (results.md and results.csv keep them all)
VERDICT_DROP_ORDER = (
    "examples/s", "wall (s)", "best loss", "steps to target", "reached target", "time to target (s)",
    "final acc", "95% CI", "hyperparameters",
)  # fmt: skip


def print_verdict(console: Console, record: StudyRecord, verdict: Verdict) -> None:
    """The verdict table and the winner, as compare-optimizers prints them."""
    toy = record.header.objective is not None
    headings, cells = table_rows(verdict.groups, record.header.seeds, toy, verdict.target)
    kept = fitting_columns(headings, cells, console.width, VERDICT_DROP_ORDER, {"hyperparameters": 16, "status": 10})
    table = Table(title=f"{record.header.title} — {verdict.target_text}", title_justify="left")
    for i in kept:
        table.add_column(headings[i], no_wrap=headings[i] in ("", "impl", "rank"))
    for group, row in zip(shown_groups(verdict.groups), cells):
        style = "bold green" if group.winner else ("red" if "diverg" in group.status else None)
        table.add_row(*(row[i] for i in kept), style=style)
    console.print(table)
    console.print(verdict_line(verdict), markup=False, highlight=False)
    console.print(f"rule: {verdict.ruling.rule}", markup=False, highlight=False, style="dim")


def print_comparison(report: Report) -> None:
    """The verdict table, the winner and where the files are."""
    comparison, console = report.comparison, make_console()
    print_verdict(console, comparison.record, report.verdict)
    console.print(f"comparison {comparison.id} {comparison.record.status}: {comparison.folder}")
    page = comparison.path(STUDY_FILES.report)
    print_paths(console, [*report.plots, *([page] if page.is_file() else [])])


def print_paths(console: Console, paths: list[Path]) -> None:
    """One path a line, indented, never split across lines (a wrapped path could not be copied): one
    longer than the terminal is left to the terminal to wrap."""
    for path in paths:
        console.print(f"  {path}", markup=False, highlight=False, soft_wrap=True)


def print_study(study: StudyFolder) -> None:
    """A study: its plan and progress, the verdict table (from its members' files as they are now, so a
    running or interrupted one shows what it has so far), its member runs and its files."""
    from dltool.study.figures import stored_verdict  # reads the members' files; plots are not drawn

    record, console = study.record, make_console()

    def say(text: str) -> None:  # stored text is shown as it is: no rich markup in it
        console.print(text, markup=False, highlight=False)

    say(f"{study.noun} {study.id}  {record.shown_status}")
    for line in plan_lines(study):
        say(line)
    print_verdict(console, record, stored_verdict(study))
    print_members_and_files(console, study)


def print_members_and_files(console: Console, study: StudyFolder) -> None:
    """A study's member runs (run id, status, seed and group: the group wraps, the id never) and its
    files, as `show` ends."""
    table = Table(title="member runs", title_justify="left", box=None, pad_edge=False)
    for heading in ("run", "status", "seed", "group"):
        table.add_column(heading, no_wrap=heading != "group")
    for member in study.record.members:
        table.add_row(*(Text(cell) for cell in (member.run_id or "-", member.status, str(member.seed), member.group)))
    console.print(table)
    console.print("files:")
    print_paths(console, study_files(study))


def plan_lines(study: StudyFolder) -> list[str]:
    """What the study runs (problem, members, seeds, jobs) and how far it has got."""
    record, header = study.record, study.record.header
    done, total = record.progress()
    optimizers = ", ".join(dict.fromkeys(member.optimizer for member in record.members))
    impls = ", ".join(dict.fromkeys(member.impl for member in record.members))
    ended = f", ended {record.end.ended} (wall {record.end.wall_time_s:.1f} s)" if record.end else ""
    tuned = [f"tuned first: {entry['variant']} in {entry['study']}" for entry in header.plan.get("tuning") or []]
    return [
        f"folder: {study.folder}",
        f"problem: {header.title}" + (f" ({header.source})" if header.source != header.title else ""),
        f"plan: {total} member runs: optimizers {optimizers}; impl {impls}; "
        f"{header.seeds} seed(s) each; {header.jobs} job(s)",
        *tuned,
        f"progress: {done}/{total} members ended; {record.shown_status}",
        f"started {header.started}{ended}",
    ]


def study_files(study: StudyFolder) -> list[Path]:
    """The study's folder, its tables and its pictures, as they are on disk."""
    names = (STUDY_FILES.record, STUDY_FILES.table, STUDY_FILES.verdict, STUDY_FILES.report, STUDY_FILES.best_config)
    names += (STUDY_FILES.optuna,)
    tables = [study.path(name) for name in names]
    plots = study.path(STUDY_FILES.plots)
    pictures = sorted(plots.glob("*")) if plots.is_dir() else []
    return [study.folder, *(path for path in tables if path.is_file()), *pictures]
