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


def ignore_interrupts() -> None:
    """Pool initializer: Ctrl-C reaches the whole process group, and an idle worker must not die of it
    with a traceback. A member's training installs its own handler (and stops cleanly) while it runs."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
