"""What the terminal shows about runs and studies: the end-of-run lines, one run in detail, a study's
tables, one study in detail (the runs table: cli/runs_table.py), and what `dltool plot` draws.

Reads run and study folders only (never imports torch), so browsing runs is quick.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dltool.cli.fit import fitting_columns
from dltool.errors import DltoolError, UsageError
from dltool.plots.axes import OVERLAY_MARK
from dltool.store.items import Item
from dltool.store.run import RUN_FILES, Run, RunSnapshot
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.store.study_damage import reading
from dltool.text import printable

if TYPE_CHECKING:
    from dltool.results.table import ResultsTable
    from dltool.study.lifecycle import StudyOutcome

ROW_STYLES = {"best": "bold green", "bad": "red"}


PIPED_WIDTH = 100_000  # piped output: no line wrapped, every table as wide as its content, never padded


def make_console() -> Console:
    """A terminal's own width; piped output (files, scripts) is never wrapped: each line whole (a log to
    grep), each table sized to its content, unless COLUMNS says how wide."""
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PIPED_WIDTH
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
    from dltool.study.kinds import redraw_plots  # numpy and matplotlib: only when something is drawn

    # `dltool plot` has no torch loaded, so it may fork; a caller that trained (a test, a notebook) may not
    paths = redraw_plots(study, fork_ok="torch" not in sys.modules)
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
    return "-".join([f"{metric}{OVERLAY_MARK}{x}", *(["with", *others] if others else [])])


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


def print_tables(console: Console, tables: list[ResultsTable]) -> None:
    """A study's tables as the kind made them (the values results.md and report.html show), each fitted
    to the terminal by dropping its least needed columns first; the best row green, failures red."""
    for results in tables:
        widths = results.min_widths
        kept = fitting_columns(list(results.headings), [list(r) for r in results.rows], console.width,
                               results.droppable, widths)  # fmt: skip
        say(console, results.title)  # a line of its own: wrapped between words, never padded to the table
        table = Table()
        for i in kept:
            table.add_column(results.headings[i], no_wrap=results.headings[i] in ("", "impl", "rank"))
        for index, row in enumerate(results.rows):
            table.add_row(*(Text(printable(row[i])) for i in kept), style=ROW_STYLES.get(results.mark(index)))
        console.print(table)
        dropped = [heading or "mark" for i, heading in enumerate(results.headings) if i not in kept]
        if dropped:  # nothing a user needs is cut without a word
            say(console, f"+ {len(dropped)} columns too wide for this terminal ({', '.join(dropped)}): in results.md")
        for line in results.notes:
            say(console, line)


def say(console: Console, text: str, **options) -> None:
    """Stored text as it is: no rich markup in it."""
    console.print(printable(text), markup=False, highlight=False, **options)


def print_outcome(outcome: StudyOutcome) -> None:
    """What a study command prints at its end: what it continued, the tables, what it found, its files."""
    study, console = outcome.study, make_console()
    for line in outcome.said:
        say(console, line)
    print_tables(console, outcome.tables)
    for line in outcome.told:
        say(console, line, soft_wrap=True)  # a command to copy: whole, never split
    say(console, f"{study.noun} {study.id} {study.record.status}: {study.folder}")
    print_paths(console, [path for path in study_files(study)[1:] if path.suffix != ".png"] + outcome.plots)


def print_paths(console: Console, paths: list[Path]) -> None:
    """One path a line, indented, never split across lines (a wrapped path could not be copied): one
    longer than the terminal is left to the terminal to wrap."""
    for path in paths:
        console.print(f"  {path}", markup=False, highlight=False, soft_wrap=True)


def print_study(study: StudyFolder) -> None:
    """A study: its plan and progress, its tables (from its members' files as they are now, so a running
    or interrupted one shows what it has so far), its member runs and its files."""
    from dltool.study.cluster import cluster_line
    from dltool.study.kinds import current_tables, kind_of  # reads the members' files; plots are not drawn

    record, console = study.record, make_console()
    kind = kind_of(study)
    with reading(study.id, "plan and members' results"):  # all read before anything is printed
        plan_lines, tables = kind.plan_lines(study, kind.spec(study)), current_tables(study)
    done, total = record.progress()
    ended = f", ended {record.end.ended} (wall {record.end.wall_time_s:.1f} s)" if record.end else ""
    say(console, f"{study.noun} {study.id}  {record.shown_status}")
    say(console, f"folder: {study.folder}")
    for line in plan_lines:
        say(console, line)
    if record.header.cluster:
        say(console, cluster_line(record.header.cluster))
    say(console, f"progress: {done}/{total} members ended; {record.shown_status}")
    say(console, f"started {record.header.started}{ended}")
    print_tables(console, tables)
    with reading(study.id, "member runs"):
        print_members_and_files(console, study)


def print_members_and_files(console: Console, study: StudyFolder) -> None:
    """A study's member runs (run id, status, seed and group: the group wraps, the id never) and its
    files, as `show` ends."""
    table = Table(title="member runs", title_justify="left", box=None, pad_edge=False)
    for heading in ("run", "status", "seed", "group"):
        table.add_column(heading, no_wrap=heading != "group")
    for member in study.record.members:
        cells = (member.run_id or "-", member.status, str(member.seed), member.group)
        table.add_row(*(Text(printable(cell)) for cell in cells))
    console.print(table)
    console.print("files:")
    print_paths(console, study_files(study))


def study_files(study: StudyFolder) -> list[Path]:
    """The study's folder, its tables and its pictures, as they are on disk."""
    names = (STUDY_FILES.record, STUDY_FILES.member_table, STUDY_FILES.results_text, STUDY_FILES.report)
    names += (STUDY_FILES.best_config,)
    names += (STUDY_FILES.optuna,)
    tables = [study.path(name) for name in names]
    plots = study.path(STUDY_FILES.plots)
    pictures = sorted(plots.glob("*")) if plots.is_dir() else []
    return [study.folder, *(path for path in tables if path.is_file()), *pictures]
