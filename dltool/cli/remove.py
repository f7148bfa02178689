"""`dltool rm`: remove runs and studies (a study with its member runs), after checking every id; nothing
running, never a member alone; --dry-run says what would go."""

from __future__ import annotations

from typing import Annotated

import typer

from dltool.cli.common import RunsDir, user_errors
from dltool.text import printable


@user_errors
def rm(
    ids: Annotated[
        list[str], typer.Argument(help="Run or study ids (unique prefixes work); a study takes its member runs.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Remove runs and studies (a study with its member runs, a comparison with its tuning studies); a
    running one, or a member run alone, is refused and nothing is removed."""
    from dltool.store.removal import planned_removal, remove

    folders = planned_removal(runs_dir, ids)
    for folder in folders:
        typer.echo(f"{'would remove' if dry_run else 'removing'} {printable(str(folder))}")
    if not dry_run:
        remove(folders)
    typer.echo(f"{len(folders)} folders {'would be removed' if dry_run else 'removed'}")
