"""What the terminal shows of a sweep or a tuning study: its table, best first, and where its files are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from dltool.cli.report import make_console, print_members_and_files, print_paths, study_files
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.point_results import PointsVerdict, point_cells

if TYPE_CHECKING:
    from dltool.study.sweep import SweepReport
    from dltool.study.tune import TuneReport


def print_points_table(console, study: StudyFolder, verdict: PointsVerdict) -> None:
    headings, rows = point_cells(study, verdict)
    seeds = study.record.header.seeds
    spread = " (mean ± std over seeds)" if seeds > 1 else ""
    table = Table(title=f"{study.record.header.title}: sorted by {verdict.described}{spread}", title_justify="left")
    for heading in headings:
        table.add_column(heading, no_wrap=heading == "")
    for group, row in zip(verdict.groups, rows):
        failed = any(r.status in ("failed", "diverged") for r in group.results)
        table.add_row(*row, style="bold green" if group.winner else ("red" if failed else None))
    console.print(table)


def print_sweep(report: SweepReport) -> None:
    study, console = report.study, make_console()
    if report.continued:
        console.print(f"continued sweep {study.id} (members already ended were not run again)", highlight=False)
    print_points_table(console, study, report.verdict)
    winner = next((group for group in report.verdict.groups if group.winner), None)
    if winner is not None:
        console.print(f"best: [bold]{winner.name}[/bold]", highlight=False)
    console.print(f"sweep {study.id} {study.record.status}: {study.folder}", highlight=False)
    print_paths(console, study_files(study)[1:])


def print_study_results(study: StudyFolder) -> None:
    """`dltool show` on a sweep or tuning study: its plan, progress, table (from its members' files as they
    are now), member runs and files."""
    from dltool.study.point_results import judge_points

    record, header, console = study.record, study.record.header, make_console()

    def say(text: str) -> None:  # stored text is shown as it is: no rich markup in it
        console.print(text, markup=False, highlight=False)

    done, total = record.progress()
    say(f"{study.noun} {study.id}  {record.shown_status}")
    say(f"folder: {study.folder}")
    say(f"config: {header.source}")
    for key, values in (header.plan.get("grid") or header.plan.get("space") or {}).items():
        say(f"  {key}: {values}")
    say(f"progress: {done}/{total} members ended; {header.jobs} job(s); started {header.started}")
    for line in header.plan.get("notes", []):
        say(line)
    print_points_table(console, study, judge_points(study))
    print_members_and_files(console, study)


def print_tune(report: TuneReport) -> None:
    study, console, best = report.study, make_console(), report.best
    plan = study.record.header.plan
    print_points_table(console, study, report.verdict)
    say = lambda text: console.print(text, markup=False, highlight=False)  # noqa: E731
    for line in report.notes:
        say(line)
    say(
        f"trials in the storage: {report.trials_in_storage} of {plan['trials']} "
        f"(this process ran {len(study.record.members)})"
    )
    if best is not None:
        command = f"dltool train {study.path(STUDY_FILES.best_config)}"
        console.print(f"train the best: {command}", markup=False, highlight=False, soft_wrap=True)  # whole, to copy
    say(f"tuning study {study.id} {study.record.status}: {study.folder}")
    print_paths(console, study_files(study)[1:])


def print_profile(study: StudyFolder) -> None:
    """`dltool show` on a comparison across problems: its rank table (results.md) and files."""
    console = make_console()
    console.print(f"{study.noun} {study.id}  {study.record.shown_status}", markup=False, highlight=False)
    table = study.path(STUDY_FILES.verdict)
    console.print(table.read_text() if table.is_file() else "(no results.md yet)", markup=False, highlight=False)
    console.print("files:")
    print_paths(console, study_files(study))
