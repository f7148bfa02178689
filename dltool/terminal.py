"""Text for a terminal: lines wrapped to its width, between words only, control characters escaped; piped
output (a file, a script) is never wrapped: one line per message, to grep."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap

from dltool.text import printable


def wrapped(text: str, indent: str = "") -> list[str]:
    """`text` in lines of the terminal's width (or COLUMNS; piped, one line), continuation lines
    indented, broken between words only: an id or a path is never split. A control character in a user's
    value is shown escaped (dltool.text.printable), never sent raw."""
    width = terminal_width()
    if width is None:
        return [indent + printable(text)]
    rest = indent + "  "
    return textwrap.wrap(
        printable(text),
        width,
        initial_indent=indent,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def terminal_width() -> int | None:
    """COLUMNS where set, else the width of the terminal stdout writes to; None where it writes to none."""
    if os.environ.get("COLUMNS"):
        return shutil.get_terminal_size().columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (OSError, ValueError, AttributeError):  # a pipe or a file; a closed or absent stdout
        return None
