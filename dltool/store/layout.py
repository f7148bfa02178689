"""Where things are in a runs folder: runs at its top or inside a study's members/ folder, and the names of
a study's files (dltool.store.study reads and writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dltool.store.staging import hidden

MEMBERS = "members"  # a study's folder of member runs


@dataclass(frozen=True)
class StudyFiles:
    """The names of a study folder's files: the only place they are written down."""

    record: str = "study.json"  # the plan, the members' runs and statuses, then the results
    member_table: str = "results.csv"  # one row per member run
    results_text: str = "results.md"  # the results table, for people
    plots: str = "plots"
    best_config: str = "best.yaml"  # a tuning study's best config, which `dltool train` runs as it is
    optuna: str = "optuna.db"  # a tuning study's default Optuna storage (SQLite)
    report: str = "report.html"  # the study on one self-contained page (dltool report)
    members: str = MEMBERS  # the member runs' folders (studies before it kept them beside the study)
    legacy_record: str = "comparison.json"  # what comparisons made before studies had kinds wrote


STUDY_FILES = StudyFiles()


def nested_members(folder: Path) -> list[Path]:
    """The run folders in `folder`/members/ (a study's); none where there is no such folder or it is unreadable."""
    members = folder / MEMBERS
    try:
        return [path for path in members.iterdir() if path.is_dir() and not hidden(path)] if members.is_dir() else []
    except OSError:  # an unreadable members/ folder: its runs are not listed, the study still is
        return []
