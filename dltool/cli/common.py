"""What every command shares: the error wrapper (a DltoolError becomes one line and its exit code,
never a traceback), the options several commands take, and comma-separated lists."""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from dltool.errors import DltoolError, NothingToDo, did_you_mean, excerpt
from dltool.files import disk_full, disk_full_message
from dltool.shipped import resolve_config
from dltool.terminal import wrapped

MAX_ITEMS = 100  # values in one comma-separated option: each is a member (or more) of a study

RunsDir = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Folder of runs (default: $DLTOOL_RUNS_DIR or ./runs).", show_default=False),
]
SetOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="<key=value>",
        help="Override a config key: --set optimizer.lr=0.01 (repeatable).",
        show_default=False,
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def fail(message: str, code: int) -> None:
    text = f"error: {message}"
    if sys.stderr.isatty():  # wrapped between words; a log or a script gets one line to search
        text = "\n".join(wrapped(text))
    typer.echo(text, err=True)
    raise typer.Exit(code)


def user_errors(command):
    """Turn a DltoolError into its message and exit code: users never see a traceback for bad input."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except NothingToDo as exc:
            typer.echo(str(exc))
            raise typer.Exit(0) from None
        except DltoolError as exc:
            if exc.reported_elsewhere:  # rank 0 of a torchrun job prints it
                raise typer.Exit(exc.exit_code) from None
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except OSError as exc:
            if not disk_full(exc):
                raise
            fail(disk_full_message(exc), 1)  # a full disk is no bug: one line, not a traceback

    return wrapper


def comma_list(
    option: str, text: str | None, kind: type, choices: tuple[str, ...] = (), maximum: float | None = None
) -> tuple:
    """'0.3,1,3' -> (0.3, 1.0, 3.0) for a comma-separated option; a bad item is a usage error. Numbers are
    positive, finite and at most `maximum`; at most MAX_ITEMS values."""
    if text is None:
        return ()
    shown = excerpt(text)
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > MAX_ITEMS:
        fail(f"{option} '{shown}': {len(items)} values; give at most {MAX_ITEMS}", 2)
    try:
        values = tuple(kind(item) for item in items)
    except ValueError:  # a number of over 4,300 digits too (Python's int-string limit)
        fail(f"{option} '{shown}': expected comma-separated {'numbers' if kind is not str else 'names'}", 2)
    if not values:
        fail(f"{option} is empty; give comma-separated values, e.g. {option} {','.join(choices[:2]) or '1,2'}", 2)
    if kind is not str:
        _check_numbers(option, shown, values, maximum)
    bad = [value for value in values if choices and value not in choices]
    if bad:
        guess = did_you_mean(str(bad[0]), list(choices))
        fail(f"{option}: '{excerpt(str(bad[0]))}' is not one of {', '.join(choices)}{guess}", 2)
    if len(set(values)) < len(values):
        fail(f"{option} '{shown}' repeats a value", 2)
    return values


def _check_numbers(option: str, shown: str, values: tuple, maximum: float | None) -> None:
    if any(isinstance(value, float) and not math.isfinite(value) for value in values):
        fail(f"{option} '{shown}': every value must be a finite number", 2)
    if any(value <= 0 for value in values):
        fail(f"{option} '{shown}': every value must be positive", 2)
    if maximum is not None and any(value > maximum for value in values):
        fail(f"{option} '{shown}': every value must be at most {maximum:,}", 2)


def config_argument(help_text: str):
    """A CONFIG argument: a path, or a shipped config's name (dltool.shipped), resolved before the command runs."""
    return typer.Argument(help=help_text, show_default=False, callback=resolve_config)
