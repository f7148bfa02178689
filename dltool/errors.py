"""Errors a user can act on. The CLI prints their message and exits with their code: no traceback."""


class DltoolError(Exception):
    """Base class: `message` is shown as is, `exit_code` is what the process returns."""

    exit_code = 1


class UsageError(DltoolError):
    """Bad usage, config or data: nothing was trained and no run folder was made."""

    exit_code = 2
