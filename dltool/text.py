"""Values as text, the same way in every table, label and file name: dotted keys of a nested config,
and a value as a user would type it (`0.01`, `true`, `[0.9,0.999]`)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

# C0 and C1 control characters but the newline: an escape sequence in a value could rewrite the screen or
# the window's title
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell that starts so as a formula


def flatten(config: dict, prefix: str = "") -> dict[str, Any]:
    """{'optimizer': {'lr': 0.1}} -> {'optimizer.lr': 0.1}; lists stay values."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(item) for item in value) + "]"
    return str(value)


def printable(text: str) -> str:
    """Text for a terminal: every control character shown as its escape (\\x1b), never sent raw."""
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run (OWASP's advice: a text starting as a formula gets a leading
    quote); numbers, negative ones included, stay as they are, and so do dltool's own cells of numbers
    (a toy problem's final point, `-0.057646 -0.000073`)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or value == "-":
        return value
    try:
        [float(token) for token in value.split()]
        return value
    except ValueError:
        return "'" + value


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text: the columns in order of first appearance, a missing or None value an empty cell,
    and a cell a spreadsheet would run as a formula quoted (spreadsheet_safe)."""
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(
        {key: ("" if value is None else spreadsheet_safe(value)) for key, value in row.items()} for row in rows
    )
    return buffer.getvalue()
