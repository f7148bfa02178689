"""The one way files are written: atomically (a temporary file, fsync, rename), so a crash or a kill
never leaves half a file for a reader; and a JSON reader that treats a damaged file as absent."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """`write` fills a temporary file, then fsync and rename: readers see the old file or the new one,
    never half. Temporaries left by a process killed mid-write are removed first."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # a failed write leaves the old file as it was, and no temporary beside it
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # a full disk at write or fsync names no file
            exc.filename = str(path)
        raise


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


DISK_FULL = "no space left on the disk"


def disk_full_message(exc: OSError, folder: Path | None = None) -> str:
    """What a user reads when `exc` (disk_full) stopped work (on `folder`, where known)."""
    where = exc.filename or folder
    return f"{DISK_FULL}{f' of {where}' if where else ''}: free some space, then continue"


def write_in_place(path: Path, text: str) -> None:
    """`text` over `path`'s old content, without a temporary: for a small file that must still be written
    when the disk is full (a run's status), where the atomic way needs room for a second copy. Not atomic."""
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`; None where there is none (missing, unreadable, not JSON, not an object).
    A run's own files are read through the typed readers of store/records.py, which say what is wrong."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # ValueError: not UTF-8, or not JSON
        return None
    return value if isinstance(value, dict) else None
