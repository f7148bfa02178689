"""Errors a user can act on. The CLI prints their message and exits with their code: no traceback."""

import difflib


class DltoolError(Exception):
    """Base class: `message` is shown as is, `exit_code` is what the process returns."""

    exit_code = 1
    # set on the ranks of a torchrun job whose rank 0 prints the message: the others exit quietly
    reported_elsewhere = False


class UsageError(DltoolError):
    """Bad usage, config or data: nothing was trained and no run folder was made."""

    exit_code = 2


class NothingToDo(DltoolError):
    """The command's work is already done (e.g. a shared tuning study holds all its trials): said, exit 0,
    nothing made."""

    exit_code = 0


def did_you_mean(name: str, choices: list[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def excerpt(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters (then '…'): a message shows a bad value, never all of a huge one."""
    return text if len(text) <= limit else text[:limit] + "…"
