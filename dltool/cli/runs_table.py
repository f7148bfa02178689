"""`dltool runs`: the runs folder as a table (or csv / json), newest first. A study is one row (its
kind, members done/total, status and best result); its member runs are hidden, or listed under it
with --members. Reads status.json, summary.json and study.json once each (never torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dltool.cli.fit import fitting_columns
from dltool.text import printable, spreadsheet_safe

if TYPE_CHECKING:  # imported where used: the command line imports this module at start, for SORT_KEYS
    from rich.table import Table

    from dltool.store.items import Listing
    from dltool.store.run import Run, RunState
    from dltool.store.study import Headline, StudyFolder

# The fields of a row, as csv and json give them (numbers as numbers; None where there is none):
# kind is run or the study's kind; members_done/members_total a study's; study a member's study;
# damage what is wrong with a damaged run's files. The table shows them formatted (TABLE_COLUMNS).
FIELDS = (
    "id", "kind", "status", "model", "model_impl", "optimizer", "optimizer_impl", "lr", "batch_size",
    "members_done", "members_total", "epochs", "eval_loss", "eval_acc", "wall_s", "started", "study", "damage",
)  # fmt: skip
TABLE_COLUMNS = ("id", "kind", "status", "model", "optimizer", "members", "epochs", "eval loss", "eval acc", "wall s")
SORT_KEYS = ("started", "eval_loss", "eval_acc", "wall_s", "id")
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


def _number(value) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_row(run: Run, state: RunState, study: str | None = None) -> dict:
    """A run as a row of typed fields (FIELDS)."""
    card, status = run.card(state.status), state.status
    model, optimizer = card["model"], card["optimizer"]
    summary = state.summary
    final = summary.get("final", {})
    eval_split = summary.get("eval_split") or "test"
    data = status.get("data") if isinstance(status.get("data"), dict) else {}  # an untyped extra key: any value
    return {
        "id": run.id,
        "kind": "run",
        "status": state.shown_status,
        "model": model.get("name"),
        "model_impl": model.get("impl"),
        "optimizer": optimizer.get("name"),
        "optimizer_impl": optimizer.get("impl"),
        "lr": _number(optimizer.get("lr")),
        "batch_size": _number(data.get("batch_size")),
        "members_done": None,
        "members_total": None,
        "epochs": _number(summary.get("epochs")),
        "eval_loss": _number(final.get(f"{eval_split}_loss")),
        "eval_acc": _number(final.get(f"{eval_split}_acc")),
        "wall_s": _number(summary.get("wall_time_s")),
        "started": status.get("started"),
        "study": study,
        "damage": "; ".join(state.damage) or None,
    }


def study_row(study: StudyFolder) -> dict:
    """A study as one row: its problem in the model field, its best (★, with how many are equivalent to it) or,
    in a study from before labels, how many were tied for best, and the best one's mean final loss and
    accuracy over seeds in the eval fields (study.json's headline)."""
    record = study.record
    done, total = record.progress()
    headline = record.end.headline if record.end else None
    return {
        **dict.fromkeys(FIELDS),
        "id": study.id,
        "kind": study.kind,
        "status": record.shown_status,
        "model": record.header.problem,
        "optimizer": _best_text(headline),
        "members_done": done,
        "members_total": total,
        "eval_loss": _number(headline.loss if headline else None),
        "eval_acc": _number(headline.acc if headline else None),
        "wall_s": _number(record.end.wall_time_s if record.end else None),
        "started": record.header.started,
    }


def _best_text(headline: Headline | None) -> str | None:
    if headline is None:
        return None
    if headline.best:
        return f"★ {headline.best}" + (f" (+{headline.tied} equivalent)" if headline.tied else "")
    return f"{headline.tied} tied" if headline.tied else None


def listed_rows(listing: Listing, filters: Filters, members: bool) -> list[dict]:
    """The rows, newest first: standalone runs and studies; with `members`, each study's members under it."""
    from dltool.store.run import Run

    rows = []
    for item in listing.top_level():
        if isinstance(item, Run):
            if filters.run_matches(item, listing.states[item.id]):
                rows.append(run_row(item, listing.states[item.id]))
            continue
        runs = [(run, listing.states[run.id]) for run in listing.members[item.id]]
        shown = [run_row(*member, study=item.id) for member in runs if filters.run_matches(*member)] if members else []
        if shown or filters.study_matches(item, runs):
            tuning = listing.tuning_studies(item) if members else []  # compare --tune's, under it too
            rows += [study_row(item), *({**study_row(tuned), "study": item.id} for tuned in tuning), *shown]
    return rows


def print_runs(
    root: Path, filters: Filters, members: bool = False, fmt: str = "table", order: Order | None = None
) -> None:
    """The runs table, fitted to the terminal's width; csv and json carry every field (FIELDS), typed."""
    from dltool.cli.views import make_console
    from dltool.store.items import read_listing

    listing = read_listing(root)
    rows = (order or Order()).apply(listed_rows(listing, filters, members))
    if fmt == "csv":
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(
            {key: "" if value is None else spreadsheet_safe(value) for key, value in row.items()} for row in rows
        )
        return
    if fmt == "json":
        import json

        print(json.dumps(rows, indent=2))
        return
    console = make_console()
    if not rows:
        console.print(f"no runs{' with ' + filters.describe() if filters else ''} in {listing.root}", markup=False)
        return
    every_id = frozenset(item.id for item in listing.everything())
    console.print(f"runs in {listing.root.resolve()}", markup=False, highlight=False)  # its own line: no padding
    console.print(runs_table(rows, "", console.width, every_id))


@dataclass(frozen=True)
class Order:
    """--sort KEY (started: newest first; losses and times: smallest first; accuracy: largest first) and
    --limit N, over top-level rows: a study's members stay under it."""

    sort: str = "started"
    limit: int | None = None

    def apply(self, rows: list[dict]) -> list[dict]:
        blocks: list[list[dict]] = []
        for row in rows:
            if row["study"] is None or not blocks:
                blocks.append([row])
            else:
                blocks[-1].append(row)
        if self.sort != "started":  # rows come newest first already
            blocks.sort(key=lambda block: self._key(block[0]))
        return [row for block in blocks[: self.limit] for row in block]

    def _key(self, row: dict) -> tuple:
        value = row.get(self.sort)
        if value is None:
            return (1, 0)
        return (0, -value if self.sort == "eval_acc" else value)


def cells(row: dict) -> dict[str, str]:
    """A row's fields as the table shows them."""

    def fmt(value, spec: str) -> str:
        return spec.format(value) if value is not None else "-"

    run = row["kind"] == "run"
    return {
        "id": (MEMBER_MARK if row["study"] else "") + row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "model": f"{row['model']} ({row['model_impl']})" if run else (row["model"] or "-"),
        "optimizer": f"{row['optimizer']} ({row['optimizer_impl']})" if run else (row["optimizer"] or "-"),
        "members": "" if run else f"{row['members_done']}/{row['members_total']}",
        "epochs": fmt(row["epochs"], "{:.2f}"),
        "eval loss": fmt(row["eval_loss"], "{:.4f}" if run else "{:.4g}"),
        "eval acc": fmt(row["eval_acc"], "{:.4f}"),
        "wall s": fmt(row["wall_s"], "{:,.1f}"),
        "damage": row["damage"] or "",
    }


# What goes first when the terminal is too narrow for every column: never the id
DROP_ORDER = ("wall s", "epochs", "members", "kind", "eval acc", "model", "optimizer", "status", "eval loss")
WRAPPED = {"model": 12, "optimizer": 13, "damage": 20}  # columns that wrap (to at least this width) before any drops


def runs_table(rows: list[dict], title: str, width: int = 200, every_id: frozenset[str] = frozenset()) -> Table:
    """Members nest under their study's row; optional columns only where used; columns dropped by
    priority until the table fits `width`, so an id is never cut (it is what users copy). On a terminal
    narrower than an id, ids become unique prefixes (`every_id`: the ids they must not match)."""
    from rich.table import Table
    from rich.text import Text

    shown = [cells(row) for row in rows]
    shortened = shorten_ids(shown, rows, every_id or frozenset(row["id"] for row in rows), width - ID_FRAME)
    studies = any(row["kind"] != "run" for row in rows)
    used = {"kind": studies, "members": studies}
    columns = [c for c in TABLE_COLUMNS if used.get(c, True)] + (["damage"] if any(r["damage"] for r in rows) else [])

    kept = fitting_columns(columns, [[cell[name] for name in columns] for cell in shown], width, DROP_ORDER, WRAPPED)
    columns = [columns[i] for i in kept]
    caption = "ids shortened to unique prefixes, which work as input" if shortened else None
    table = Table(title=title if title and len(title) <= width else None, caption=caption)
    for column in columns:
        table.add_column(column, no_wrap=column not in WRAPPED, overflow="fold")  # wraps, never cut off
    for cell in shown:  # Text cells: rich need not parse markup in 10 cells x 1000 runs
        table.add_row(*(Text(printable(cell[column])) for column in columns))
    return table


ID_FRAME = 4  # the table's border and padding around a lone id column: "│ " and " │"


def shorten_ids(shown: list[dict[str, str]], rows: list[dict], every_id: frozenset[str], room: int) -> bool:
    """Where an id cannot fit the terminal even alone, it is shown as its prefix of `room` characters,
    which `dltool show` and the others accept as long as no other id starts with it (checked); one whose
    prefix is not unique is shown whole over two lines. True when an id was shortened."""
    shortened = False
    for cell, row in zip(shown, rows):
        mark, item_id = (MEMBER_MARK if row["study"] else ""), row["id"]
        fits = max(room - len(mark), 1)
        if len(item_id) <= fits:
            continue
        if sum(other.startswith(item_id[:fits]) for other in every_id) == 1:
            cell["id"], shortened = mark + item_id[:fits], True
        else:  # whole, over as many lines as it takes
            cell["id"] = mark + "\n".join(item_id[i : i + fits] for i in range(0, len(item_id), fits))
    return shortened
