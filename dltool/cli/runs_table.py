"""`dltool runs`: the runs folder as a table (or csv / json), newest first. A study is one row (its
kind, members done/total, status and best result); its member runs are hidden, or listed under it
with --members. Reads status.json, summary.json and study.json once each (never torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from rich.text import Text

from dltool.store.items import Listing, read_listing
from dltool.store.run import Run, RunState
from dltool.store.study import StudyFolder

# "kind": run, or the study's kind; "members": a study's members done/total (a table shows these two only
# when a study is listed); "study": a member's study (csv and json: the table nests members under it
# instead); "damage": what is wrong with a damaged run's files (a table shows it only then)
COLUMNS = (
    "id",
    "kind",
    "status",
    "model",
    "optimizer",
    "members",
    "epochs",
    "eval loss",
    "eval acc",
    "wall s",
    "study",
    "damage",
)
MEMBER_MARK = "└ "  # a member row's id in the table, under its study's row


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    model: str | None = None
    optimizer: str | None = None

    def __bool__(self) -> bool:
        return any((self.status, self.model, self.optimizer))

    def describe(self) -> str:
        named = (("status", self.status), ("model", self.model), ("optimizer", self.optimizer))
        return ", ".join(f"{key} '{value}'" for key, value in named if value)

    def run_matches(self, run: Run, state: RunState) -> bool:
        card = run.card(state.status)
        return (
            (self.status is None or state.shown_status == self.status)
            and (self.model is None or card["model"].get("name") == self.model)
            and (self.optimizer is None or card["optimizer"].get("name") == self.optimizer)
        )

    def study_matches(self, study: StudyFolder, members: list[tuple[Run, RunState]]) -> bool:
        """By the study's own status; by model and optimizer, where one of its members matches."""
        if self.status is not None and study.record.shown_status != self.status:
            return False
        members_only = Filters(None, self.model, self.optimizer)
        return not (self.model or self.optimizer) or any(members_only.run_matches(*member) for member in members)


def number(value, fmt: str) -> str:
    return fmt.format(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def run_row(run: Run, state: RunState, study: str = "") -> dict[str, str]:
    card = run.card(state.status)
    model, optimizer = card["model"], card["optimizer"]
    summary = state.summary
    final = summary.get("final", {})
    eval_split = summary.get("eval_split") or "test"
    return {
        "id": run.id,
        "kind": "run",
        "status": state.shown_status,
        "model": f"{model.get('name', '?')} ({model.get('impl', '?')})",
        "optimizer": f"{optimizer.get('name', '?')} ({optimizer.get('impl', '?')})",
        "members": "",
        "epochs": number(summary.get("epochs"), "{:.2f}"),
        "eval loss": number(final.get(f"{eval_split}_loss"), "{:.4f}"),
        "eval acc": number(final.get(f"{eval_split}_acc"), "{:.4f}"),
        "wall s": number(summary.get("wall_time_s"), "{:.1f}"),
        "study": study,
        "damage": "; ".join(state.damage),
    }


def study_row(study: StudyFolder) -> dict[str, str]:
    """A study as one row: its problem in the model column, the winner (★) and its mean final loss and
    accuracy over seeds in the optimizer and eval columns."""
    record = study.record
    done, total = record.progress()
    winner = record.winner() or {}
    return {
        "id": study.id,
        "kind": study.kind,
        "status": record.shown_status,
        "model": record.header.problem,
        "optimizer": f"★ {winner.get('group', '?')}" if winner else "-",
        "members": f"{done}/{total}",
        "epochs": "-",
        "eval loss": number(winner_mean(winner, "final_loss"), "{:.4g}"),
        "eval acc": number(winner_mean(winner, "final_acc"), "{:.4f}"),
        "wall s": number(record.end.wall_time_s if record.end else None, "{:.1f}"),
        "study": "",
        "damage": "",
    }


def winner_mean(winner: dict, key: str) -> float | None:
    """The mean over seeds of a statistic of the winning group (stored as [mean, std])."""
    value = winner.get(key)
    return value[0] if isinstance(value, list) and value else None


def listed_rows(listing: Listing, filters: Filters, members: bool) -> list[dict[str, str]]:
    """The rows, newest first: standalone runs and studies; with `members`, each study's members under it."""
    rows = []
    for item in listing.top_level():
        if isinstance(item, Run):
            if filters.run_matches(item, listing.states[item.id]):
                rows.append(run_row(item, listing.states[item.id]))
            continue
        runs = [(run, listing.states[run.id]) for run in listing.members[item.id]]
        shown = [run_row(*member, study=item.id) for member in runs if filters.run_matches(*member)] if members else []
        if shown or filters.study_matches(item, runs):
            rows += [study_row(item), *shown]
    return rows


def print_runs(root: Path, filters: Filters, members: bool = False, fmt: str = "table") -> None:
    """The runs table; csv and json carry every column (kind, members, study) for scripts."""
    from dltool.cli.report import make_console

    listing = read_listing(root)
    rows = listed_rows(listing, filters, members)
    if fmt == "csv":
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return
    if fmt == "json":
        import json

        print(json.dumps(rows, indent=2))
        return
    console = make_console()
    if not rows:
        console.print(f"no runs{' with ' + filters.describe() if filters else ''} in {listing.root}", markup=False)
        return
    console.print(runs_table(rows, f"runs in {listing.root}"))


def runs_table(rows: list[dict[str, str]], title: str) -> Table:
    """Members (rows with a study) nest under their study's row; optional columns only where used."""
    studies = any(row["kind"] != "run" for row in rows)
    used = {"kind": studies, "members": studies, "damage": any(row["damage"] for row in rows)}
    columns = [c for c in COLUMNS if c != "study" and used.get(c, True)]
    table = Table(title=title)
    for column in columns:
        table.add_column(column, no_wrap=column != "damage")
    for row in rows:  # Text cells: rich need not parse markup in 10 cells x 1000 runs
        shown = {**row, "id": MEMBER_MARK + row["id"]} if row["study"] else row
        table.add_row(*(Text(shown[column]) for column in columns))
    return table
