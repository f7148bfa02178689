"""The one results table of a study, as cells already formatted: the terminal, results.md and
report.html all render this value, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResultsTable:
    title: str  # what the table ranks, against what
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marks: tuple[str | None, ...] = ()  # per row: "best" (the winner), "bad" (failed, diverging) or None
    intro: tuple[str, ...] = ()  # lines before the table (status, members, what it is sorted by)
    notes: tuple[str, ...] = ()  # lines after it: the verdict sentence, the rule, a tuning study's best
    droppable: tuple[str, ...] = ()  # the columns a narrow terminal drops first, in that order
    min_widths: dict[str, int] = field(default_factory=dict)  # the widths kept for wrapping columns

    def mark(self, index: int) -> str | None:
        return self.marks[index] if index < len(self.marks) else None


def markdown_rows(headings: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    """A Markdown table; a pipe inside a cell escaped."""
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]


def markdown(table: ResultsTable, heading: str, level: int = 1) -> list[str]:
    """results.md's lines for the table: its heading, intro, the table, its notes."""
    lines = [f"{'#' * level} {heading}", ""]
    lines += [line for text in table.intro for line in (text, "")]
    lines += markdown_rows(table.headings, table.rows)
    lines += [line for text in table.notes for line in ("", text)]
    return lines
