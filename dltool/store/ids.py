"""Ids of the folders in a runs folder (runs and studies): what an id may look like, their order, and
finding one by id, unique prefix or 'latest', with the same helpful errors for every kind."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from dltool.errors import UsageError, did_you_mean

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
STAMP = len("yyyymmdd-hhmmss")  # ids begin with the second their folder was made


class Named(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=Named)


def check_id(wanted: str) -> None:
    """A path is never an id: `show ../x` must not read outside the runs folder."""
    if not ID_PATTERN.match(wanted) or ".." in wanted:
        raise UsageError(f"'{wanted}' is not a run id (ids have no path separators or '..'); see 'dltool runs'")


def newest_first(item_id: str, created: float | None) -> tuple:
    """A sort key, reversed for newest first: ids share their second, `created` (time.time()) breaks ties."""
    return (item_id[:STAMP], created if isinstance(created, (int, float)) else 0.0, item_id)


def pick(items: Sequence[Item], wanted: str, root: Path, noun: str = "run") -> Item:
    """The item whose id is `wanted` or the one id it is a prefix of; 'latest' is the first of `items`
    (callers list them newest first). Unknown and ambiguous ids get a helpful error."""
    check_id(wanted)
    if wanted == "latest":
        if not items:
            raise UsageError(f"no runs in '{root}' yet; start one with 'dltool train CONFIG'")
        return items[0]
    exact = [item for item in items if item.id == wanted]
    if exact:
        return exact[0]
    matches = [item for item in items if item.id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(item.id for item in matches[:10])
        raise UsageError(f"{noun} id prefix '{wanted}' is ambiguous: it matches {listed}; give more characters")
    hint = did_you_mean(wanted, [item.id for item in items])
    raise UsageError(f"no {noun} '{wanted}' in '{root}'{hint}; 'dltool runs' lists them")
