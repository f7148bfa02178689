"""A new run folder made whole before it appears under its name: its first files are written in a hidden
folder beside it (`.creating-PID-TOKEN`), which is then renamed. A process killed meanwhile leaves no run
folder without its status.json (the fault-injection test found one, killed between mkdir and its first
write); the hidden folder it leaves behind is removed by the next run made there. Listings skip names that
begin with a dot."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from dltool.errors import UsageError
from dltool.store.process import pid_alive

PREFIX = ".creating-"


def hidden(path: Path) -> bool:
    """A folder no listing shows: one being made (here), or unpacked (dltool.store.folder_pack)."""
    return path.name.startswith(".")


def made_whole(root: Path, names: Iterable[str], fill: Callable[[Path], None]) -> Path:
    """The folder `fill` wrote, under the first of `names` not taken in `root`."""
    remove_abandoned(root)
    staging = staging_folder(root)
    staging.mkdir()
    try:
        fill(staging)
        for name in names:
            target = root / name
            if target.exists():
                continue
            with contextlib.suppress(FileExistsError, OSError):  # taken meanwhile: the next name
                staging.rename(target)
                return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    raise UsageError(f"could not make a unique run folder in '{root}'")


def staging_folder(root: Path) -> Path:
    """A hidden name in `root` for a folder this process is making."""
    return root / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"


def remove_abandoned(root: Path) -> None:
    """Hidden folders of processes that died while making them."""
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            pid = entry.name.removeprefix(PREFIX).split("-")[0]
            if entry.name.startswith(PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
