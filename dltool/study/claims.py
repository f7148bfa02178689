"""One process at a time on a study's plan: the claim that two identical commands started together do not
both run it (each would find no earlier study, start one of its own and train every member again).

A claim is an exclusive lock (flock) on a file beside the runs, named by the plan's hash, held until the
study ends. The kernel releases it when the process ends however it ends (a SIGKILL too), so a claim is
never left behind by a dead process; the worker processes, forked from their own server, never hold it.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

_HELD: dict[Path, Claim] = {}  # this process's claims, by lock file


class Claim:
    """A held claim; released by release(), or by the kernel when the process ends."""

    def __init__(self, path: Path, handle: IO) -> None:
        self.path, self.handle = path, handle

    def release(self) -> None:
        if _HELD.pop(self.path, None) is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


def claim(runs_root: Path, kind: str, key: str) -> Claim | None:
    """This process's claim on the plan `key` of `kind` in `runs_root`; None where another process holds it.
    Claiming again what this process holds gives the claim it holds."""
    path = runs_root / f".{kind}-{key}.lock"
    if path in _HELD:
        return _HELD[path]
    runs_root.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115  (held open: closing it would release the claim)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    _HELD[path] = Claim(path, handle)
    return _HELD[path]
