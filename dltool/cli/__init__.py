"""The dltool command line: parse, build the config, call one library function, print the outcome.

One module per command family (train, browse, study); each command imports what it needs when it
runs, so `dltool --help` answers at once.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from dltool.cli import browse, configs, diff, remove, report, study, sweep, train
from dltool.cli.choices import Command, Group

app = typer.Typer(
    cls=Group,
    help="Run, compare and browse the classic Dive into Deep Learning experiments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # -h as well, in every command
)


def show_version(value: bool) -> None:
    if value:
        from dltool import __version__

        typer.echo(f"dltool {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Run, compare and browse the classic Dive into Deep Learning experiments."""


app.command(cls=Command)(train.train)
app.command("compare-optimizers", cls=Command)(study.compare_optimizers)
app.command(cls=Command)(sweep.sweep)
app.command(cls=Command)(sweep.tune)
app.command(cls=Command)(browse.runs)
app.command(cls=Command)(browse.plot)
app.command(cls=Command)(browse.export)
app.command(cls=Command)(browse.show)
app.command(cls=Command)(diff.diff)
app.command(cls=Command)(report.report)
app.command(cls=Command)(train.model)
app.command(cls=Command)(configs.configs)
app.command(cls=Command)(remove.rm)


def main() -> None:
    """The console entry point. Everything is on disk when a command returns (files are written
    atomically and closed), so the process ends there: Python's own teardown of torch's and
    matplotlib's modules would add 0.4-0.9 s to every command that trained or drew."""
    try:
        app(prog_name="dltool")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    from dltool.train.launch_info import tell_launcher  # after the command: only then is it known how it ended

    tell_launcher(exit_code=code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
