"""metrics.jsonl, typed: the model of one record, the check its writer makes, and the reader that
keeps the valid records and counts the rest.

A record without a valid step and split cannot be placed on any curve and is skipped; a record
whose other values are of the wrong type keeps its valid ones (the bad ones read as missing). Both
are counted, and the reader says how many and why; a partial last line (a run killed while writing
it) is no damage and is skipped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from dltool.store.records import Count, Stored

PLACE = ("step", "split")  # what puts a record on a curve: without them it is skipped


class MetricRecord(Stored):
    """One line of metrics.jsonl; fields a model adds (a toy objective's point `x`) are numbers too."""

    step: Count
    split: str
    epoch: float | None = None
    examples: Count | None = None
    time: float | None = None
    loss: float | None = None
    acc: float | None = None
    lr: float | None = None


def is_numeric(value) -> bool:
    """A number, null, or a list of them (not true/false, which JSON keeps apart from numbers)."""
    items = value if isinstance(value, list) else [value]
    return all(item is None or (isinstance(item, (int, float)) and not isinstance(item, bool)) for item in items)


def problems(record: dict) -> tuple[str | None, list[str]]:
    """(why the record must be skipped, or None; the keys whose values are of the wrong type)."""
    try:
        MetricRecord.model_validate(record)
        bad = []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        missing = [error["loc"][0] for error in errors if error["type"] == "missing"]
        if missing:
            return f"missing {missing[0]}", []
        bad = sorted({str(error["loc"][0]) for error in errors})
        placing = [key for key in PLACE if key in bad]
        if placing:
            return f"invalid {placing[0]}", []
    extras = [key for key, value in record.items() if key not in MetricRecord.model_fields and not is_numeric(value)]
    return None, bad + extras


def check_metric(record: dict) -> None:
    """The writer's check: a record its readers would skip or cut is a bug where it is made."""
    skip, bad = problems(record)
    if skip or bad:
        raise ValueError(f"metric record {record!r}: {skip or 'values of the wrong type: ' + ', '.join(bad)}")


@dataclass
class Tally:
    """What a reading of metrics.jsonl could not use, for one line that says so."""

    total: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    first_skipped: int = 0
    cut: int = 0  # records kept without their values of the wrong type
    first_cut: int = 0

    def reason(self, name: str) -> str | None:
        parts = []
        if self.skipped:
            why = ", ".join(self.skipped)
            count = sum(self.skipped.values())
            parts.append(f"{count} of {self.total} records skipped ({why}; the first at line {self.first_skipped})")
        if self.cut:
            parts.append(
                f"{self.cut} of {self.total} records hold values that are not numbers, left out "
                f"(the first at line {self.first_cut})"
            )
        return f"{name}: {'; '.join(parts)}" if parts else None


def parse_metric(line: bytes) -> tuple[dict | None, str | None, bool]:
    """One line: (record or None, why it is skipped, whether values of the wrong type were left out)."""
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "invalid UTF-8", False
    except (ValueError, RecursionError):
        return None, "not JSON", False
    if not isinstance(value, dict):
        return None, "not JSON objects", False
    skip, bad = problems(value)
    if skip:
        return None, skip, False
    return ({**value, **dict.fromkeys(bad)} if bad else value), None, bool(bad)


def read_metrics(path: Path) -> tuple[list[dict], str | None]:
    """The valid records of a metrics.jsonl, and what could not be used (None when all could)."""
    records: list[dict] = []
    tally = Tally()
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                complete = line.endswith(b"\n")
                if not line.strip():
                    continue
                record, skip, cut = parse_metric(line)
                if record is None and not complete:
                    continue  # the last line of a run killed while writing it
                tally.total += 1
                if record is None:
                    tally.skipped[skip] += 1
                    tally.first_skipped = tally.first_skipped or number
                    continue
                records.append(record)
                if cut:
                    tally.cut += 1
                    tally.first_cut = tally.first_cut or number
    except FileNotFoundError:
        return [], None
    except OSError as exc:
        return records, f"{path.name} cannot be read ({exc.strerror})"
    return records, tally.reason(path.name)
