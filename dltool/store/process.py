"""Is the process that status.json names still the run's? A pid alone can be reused once its process
has ended, so a run records its process's start too: on Linux, the boot id and the start time in clock
ticks since boot (field 22 of /proc/<pid>/stat). A living pid with another start is another process.
Where there is no /proc, and for runs recorded before the start was, the pid alone decides.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
BOOT_ID = PROC / "sys/kernel/random/boot_id"
PID_MAX = 2**22  # Linux's PID_MAX_LIMIT: no process has a larger pid


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat from the third (the state) on; None where it cannot be read."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    return stat.rsplit(")", 1)[-1].split()  # the name before ')' may hold spaces and parentheses


def process_start(pid: int) -> str | None:
    """'<boot id>:<start ticks>' of process `pid`: unique to it across reboots; None without /proc."""
    fields = proc_stat(pid)
    try:
        boot = BOOT_ID.read_text().strip()
    except OSError:
        return None
    if fields is None or len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"  # field 22 of the line; the list starts at field 3


def this_process() -> dict:
    """What status.json records of the process running a run: its pid and, where known, its start."""
    pid = os.getpid()
    start = process_start(pid)
    return {"pid": pid, **({"pid_start": start} if start else {})}


def pid_alive(pid: int | None, start: str | None = None) -> bool:
    """Whether process `pid` is alive and, when `start` is given, still the one that started then."""
    if not isinstance(pid, int) or not 0 < pid <= PID_MAX:  # 0 and negatives would name process groups
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, but another user's
    if is_zombie(pid):
        return False
    if start is not None and PROC.joinpath("self/stat").exists():
        return process_start(pid) == start  # None: it ended just now
    return True


def is_zombie(pid: int) -> bool:
    """A process that has ended but not yet been reaped by its parent (Linux; elsewhere: False)."""
    fields = proc_stat(pid)
    return bool(fields) and fields[0] == "Z"
