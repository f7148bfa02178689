"""results.md: a study's tables for people, rendered from the tables every surface shows, then its
member runs (each with its seed, run id, status and why it failed)."""

from __future__ import annotations

from dltool.results.table import ResultsTable, markdown, markdown_rows
from dltool.store.study import StudyFolder


def results_markdown(study: StudyFolder, tables: list[ResultsTable]) -> str:
    header = study.record.header
    lines = markdown(tables[0], f"{study.noun.capitalize()}: {header.title}") if tables else []
    for table in tables[1:]:
        lines += ["", *markdown(table, table.title, level=2)]
    members = study.record.members
    if members:
        rows = [
            (m.group, str(m.seed), m.run_id or "-", m.status + (f" ({m.error})" if m.error else "")) for m in members
        ]
        lines += ["", "## Member runs", "", *markdown_rows(("member", "seed", "run id", "status"), tuple(rows))]
    return "\n".join(lines) + "\n"
