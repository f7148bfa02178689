"""Worker processes for comparisons. Light on purpose (no torch, no dltool imports): the CLI starts
the worker server before it imports anything heavy, so the server's imports overlap its own."""

from __future__ import annotations

import multiprocessing


def worker_context():
    """forkserver where there is one: workers fork from a server that imported torch once (start-up in
    milliseconds, not seconds) and never from this process, whose thread pools a fork would copy."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # torch._dynamo: torch.optim imports it on the first optimizer, 1.5 s that every worker would pay
        context.set_forkserver_preload(
            ["dltool.train.run", "dltool.study.compare", "torch._dynamo", "dltool.train.forkserver_exit"]
        )
        return context
    return multiprocessing.get_context("spawn")


def start_workers_early() -> None:
    """Start the forkserver now, so that its imports (torch: seconds) overlap this process's planning."""
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def start_worker(parent: int) -> None:
    """Pool initializer. Ctrl-C reaches the whole process group, and an idle worker must not die of it
    with a traceback (a member's training installs its own handler, and stops cleanly, while it runs).
    The worker ends when `parent` (the command's process) is gone: killed with SIGKILL, it cannot tell
    its workers, which would otherwise train on (about 1.5 GB for two) and write into the study after it."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_gone, args=(parent,), daemon=True, name="dltool-parent-watch").start()


PARENT_POLL_S = 0.5


def _exit_when_gone(parent: int) -> None:
    import os
    import time

    while alive(parent):
        time.sleep(PARENT_POLL_S)
    os._exit(1)  # at once: its member's run is left as a kill leaves it (resumed from its checkpoint)


def alive(pid: int) -> bool:
    """Whether process `pid` runs: not gone, and not a zombie (killed, not yet reaped by its own parent)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS): kill's answer stands
        return True
