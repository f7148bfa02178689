"""Tables that fit the terminal: the columns a narrow terminal cannot hold are dropped by priority
(never the ones that name a row), and the wrappable ones counted at their wrapped width."""

from __future__ import annotations

from collections.abc import Sequence


def fitting_columns(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    drop_order: Sequence[str],
    wrapped: dict[str, int],
) -> list[int]:
    """The indices of the columns to show: all where they fit in `width`, else without those of
    `drop_order`, first first, until they do. A column in `wrapped` counts at most its given width."""

    def needed(kept: list[int]) -> int:  # rich's box: a border, and one space each side of every cell
        total = 1
        for i in kept:
            widest = max([len(headings[i]), *(len(row[i]) for row in rows)])
            total += 3 + min(widest, wrapped.get(headings[i], widest))
        return total

    kept = list(range(len(headings)))
    for name in drop_order:
        if needed(kept) <= width:
            break
        kept = [i for i in kept if headings[i] != name]
    return kept
