"""Text for a terminal: lines wrapped to its width, between words only, control characters escaped."""

from __future__ import annotations

import shutil
import textwrap

from dltool.text import printable


def wrapped(text: str, indent: str = "") -> list[str]:
    """`text` in lines of the terminal's width (COLUMNS; 80 without a terminal), continuation lines
    indented, broken between words only: an id or a path is never split. A control character in a user's
    value is shown escaped (dltool.text.printable), never sent raw."""
    width = shutil.get_terminal_size().columns
    rest = indent + "  "
    return textwrap.wrap(
        printable(text),
        width,
        initial_indent=indent,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
