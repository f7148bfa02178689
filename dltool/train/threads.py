"""How many intra-op threads a run gives torch: `threads: N`, or under `auto` a share of the cores.

A run alone uses every core it may run on. Several runs on one machine each used to take every core
too, and their OpenMP threads spin-waited against each other's: four runs at once on two cores took
three times as long as the same four one after another (README: several experiments at once).
Under `auto` each run registers itself in a machine-wide folder of live runs and takes
cores // (live runs) when it starts.

The count is then fixed for the whole run, and a resumed run takes the count its start recorded in
env.json: a run's last digits depend on its thread count (the order of sums in matmuls), so a count that
followed the neighbours would make a run's numbers, and its resume, depend on what else ran beside it
(LeNet-BN on 6,000 examples: first-epoch loss 0.62014 alone, 0.62099 with other runs alive).
A user's own OMP_NUM_THREADS wins over `auto`: then torch's count is left as the variable sets it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import torch

from dltool.store.process import pid_alive, this_process

# Shared by all users, like /tmp itself; DLTOOL_LIVE_RUNS moves it (where each user has a private /tmp,
# or to keep a test suite's runs apart from the machine's).
LIVE_RUNS_VARIABLE = "DLTOOL_LIVE_RUNS"


def cores_available() -> int:
    """The cores this process may run on (a container's or taskset's limit), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class LiveRuns:
    """One file per running dltool run (named by pid, holding its process start); dead ones don't count."""

    def __init__(self, folder: Path | None = None) -> None:
        default = Path(tempfile.gettempdir()) / "dltool-live-runs"
        self.folder = folder or Path(os.environ.get(LIVE_RUNS_VARIABLE) or default)
        self.entry: Path | None = None

    def register(self) -> None:
        """Best effort: where the folder cannot be written, this run counts only itself."""
        me = this_process()
        try:
            self.folder.mkdir(mode=0o1777, exist_ok=True)
            with contextlib.suppress(OSError):
                self.folder.chmod(0o1777)  # mkdir's mode is cut by the umask; another user's folder stays theirs
            entry = self.folder / str(me["pid"])
            entry.write_text(me.get("pid_start", ""))
            self.entry = entry
        except OSError:
            self.entry = None

    def unregister(self) -> None:
        if self.entry is not None:
            with contextlib.suppress(OSError):
                self.entry.unlink()
            self.entry = None

    def count(self) -> int:
        """Live runs on this machine, this one included (at least 1)."""
        live = 0
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return 1
        for entry in entries:
            try:
                pid, start = int(entry.name), entry.read_text().strip() or None
            except (OSError, ValueError):
                continue
            if pid_alive(pid, start):
                live += 1
            else:  # a run killed with SIGKILL leaves its file: the first run to see it removes it
                with contextlib.suppress(OSError):
                    entry.unlink()
        return max(live, 1)


class ThreadShare:
    """Applies a run's `threads` setting to torch for as long as the run trains: N, or under `auto` the
    run's share of the cores when it starts (or `count`, a resumed run's recorded one)."""

    def __init__(self, setting: str | int, live: LiveRuns | None = None, count: int | None = None) -> None:
        self.setting = setting
        self.live = live or LiveRuns()
        self.count = count
        self.before = torch.get_num_threads()  # given back at the end: the count is the process's, not the run's

    def share(self) -> int:
        """cores // live runs; the ranks of one torchrun job on this machine (LOCAL_WORLD_SIZE) count from the
        start, as they start together and would otherwise each count the others that registered first."""
        ranks_here = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
        return max(1, cores_available() // max(self.live.count(), ranks_here))

    def __enter__(self) -> ThreadShare:
        self.live.register()
        if isinstance(self.setting, int):
            torch.set_num_threads(self.setting)
        elif "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(self.count or self.share())
        return self

    def __exit__(self, *exc) -> None:
        self.live.unregister()
        torch.set_num_threads(self.before)
