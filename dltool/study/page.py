"""A study's report.html: its overview and plan, its tables (the same values the terminal and
results.md show), its pictures, member runs and versions; written when it ends, and by `dltool report`."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

from dltool.errors import DltoolError
from dltool.plots.report_page import (
    badge,
    cell,
    env_table,
    esc,
    figures,
    inline,
    kv_table,
    muted,
    own_pictures,
    page,
    section,
    table,
    write_page,
)
from dltool.results.table import ResultsTable
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.kinds import kind_of, redraw_plots


def write_study_page(study: StudyFolder, tables: list[ResultsTable], out: Path | None = None) -> Path | None:
    """The study on one self-contained page; at a study's end (out None) a failure is a warning, never
    the study's."""
    build = functools.partial(build_study_page, study, tables)
    if out is not None:
        return write_page(study.folder, build, out)
    try:
        return write_page(study.folder, build)
    except Exception as exc:
        print(f"warning: the {study.noun}'s report.html was not written ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def build_study_page(study: StudyFolder, tables: list[ResultsTable]) -> str:
    record, header = study.record, study.record.header
    done, total = record.progress()
    rows = [("status", record.shown_status), ("progress", f"{done}/{total} member runs ended")]
    rows += [("started", header.started)]
    end = record.end
    rows += [("ended", end.ended), ("wall time (s)", end.wall_time_s), ("against", end.against)] if end else []
    rows += [("folder", study.folder)]
    first = next((run for run in map(study.member_run, record.members) if run is not None), None)
    sections = [  # the verdict first: what one sends a colleague for; how it was made after
        section("Results", "".join(map(results_html, tables)) or muted("no results yet")),
        section("Plots", figures(study_pictures(study))),
        f'<div class="columns">{section("Overview", kv_table(rows))}{section("Plan", plan_html(study))}</div>',
        section("Member runs", members_table(study)) if record.members else "",
        section("Versions", env_table(first) if first else muted("no member run has started yet")),
    ]
    return page(f"{study.noun} {study.id}", header.title, record.shown_status, [s for s in sections if s])


def results_html(results: ResultsTable) -> str:
    """A results table with the lines around it; the best row highlighted."""
    intro = "".join(f"<p>{inline(line)}</p>" for line in results.intro)
    rows = [[cell(text, inline) for text in row] for row in results.rows]
    best = {index for index in range(len(results.rows)) if results.mark(index) == "best"}
    notes = "".join(f"<p>{inline(line)}</p>" for line in results.notes)
    return f"<h3>{esc(results.title)}</h3>{intro}{table(list(results.headings), rows, best)}{notes}"


def plan_html(study: StudyFolder) -> str:
    """What the study runs: its kind's words for it, its header's fields, then its kind's plan, for people: a
    list of records as a table, other values as short text, empty ones left out."""
    kind = kind_of(study)
    words = "".join(f"<p>{esc(line)}</p>" for line in kind.plan_lines(study, kind.spec(study)))
    header = study.record.header
    rows = [("kind", header.kind), ("source", header.source), ("seeds", header.seeds), ("jobs", header.jobs)]
    records = {key: value for key, value in header.plan.items() if value and is_records(value)}
    rows += [(key.replace("_", " "), value) for key, value in header.plan.items() if key not in records]
    blocks = "".join(f"<h3>{esc(key.replace('_', ' '))}</h3>{records_table(value)}" for key, value in records.items())
    return words + kv_table(rows) + blocks


def is_records(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def records_table(records: list[dict]) -> str:
    """A list of mappings (a comparison's tuning entries) as a table: one row each, a column per key."""
    keys = list(dict.fromkeys(key for record in records for key in record))
    rows = [[cell(record.get(key)) for key in keys] for record in records]
    return table([key.replace("_", " ") for key in keys], rows)


def members_table(study: StudyFolder) -> str:
    rows = []
    for member in study.record.members:
        status = f"<td>{badge(member.status)} {esc(member.error or '')}</td>"
        rows.append([cell(member.group), cell(member.seed), cell(f"`{member.run_id or '-'}`", inline), status])
    return table(["member", "seed", "run id", "status"], rows)


def study_pictures(study: StudyFolder) -> list[Path]:
    """The study's PNG pictures; redrawn where plots/ has none (none at all where no member has a result)."""
    folder = study.path(STUDY_FILES.plots)
    if not any(folder.glob("*.png")):
        with contextlib.suppress(DltoolError):  # nothing to plot yet: the page says so
            redraw_plots(study, fork_ok=False)
    return own_pictures(folder)
