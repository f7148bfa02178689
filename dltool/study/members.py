"""A comparison's member runs: one after another in this process (--jobs 1), or side by side in worker
processes. Each member trains the config its plan validated (a pydantic model pickles to a worker as
it is), and comparison.json records its run id and status as soon as it finishes.
"""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from dltool.config import Config
from dltool.store.study import ComparisonFolder
from dltool.study.plan import Member
from dltool.train.engine import StopFlag
from dltool.train.progress import MemberProgress
from dltool.train.run import train


def default_jobs(members: int) -> int:
    return max(1, min(os.cpu_count() or 1, members))


def run_member(config: Config, runs_dir: Path, study: str, quiet: bool = True) -> tuple[str, str, int]:
    """One member of the study `study` in this process: (run id, status, exit code). Top-level so worker
    processes can run it."""
    outcome = train(config, runs_dir, quiet=quiet, plots=False, study=study)
    return outcome.run.id, outcome.status, outcome.exit_code


def _finish_member(
    comparison: ComparisonFolder, member: Member, index: int, result: tuple[str | None, str], progress: MemberProgress
) -> None:
    run_id, status = result
    comparison.member_finished(index, run_id, status)
    progress.member_done(member.entry, run_id, status)


def run_here(comparison: ComparisonFolder, members: tuple[Member, ...], progress: MemberProgress) -> tuple[str, int]:
    """Members one after another in this process: ('completed', 0), or ('interrupted', 130 or 143).
    Each member's ThreadShare gives the process its thread count back when the member ends."""
    for index, member in enumerate(members):
        try:
            # one member at a time: its own progress bar (members in a pool stay quiet, or their bars would mix)
            run_id, status, code = run_member(member.config, comparison.runs_root, comparison.id, progress.quiet)
        except KeyboardInterrupt:  # between two members' signal handlers
            return "interrupted", 130
        _finish_member(comparison, member, index, (run_id, status), progress)
        if status == "interrupted":  # the signal reached the member: it saved itself, stop here
            return "interrupted", code
    return "completed", 0


def run_in_pool(
    comparison: ComparisonFolder,
    members: tuple[Member, ...],
    pool: ProcessPoolExecutor,
    jobs: int,
    progress: MemberProgress,
) -> tuple[str, int]:
    """Members in the pool's processes, at most `jobs` handed out at a time: on SIGINT/SIGTERM
    nothing new starts (the pool queues ahead what it is given, so handing out everything at once would
    run members after the signal); the running ones stop at their next step if they got it too, else finish."""
    waiting = iter(enumerate(members))
    pending: dict[Future, int] = {}
    interrupted_code = 0

    def hand_out() -> None:
        for index, member in itertools.islice(waiting, 1):
            pending[pool.submit(run_member, member.config, comparison.runs_root, comparison.id)] = index

    with StopFlag() as stop:
        for _ in range(jobs):
            hand_out()
        import matplotlib.figure  # noqa: F401  (the plots come next: load them while the members train)

        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                run_id, status, code = _pool_result(future, members[index])
                _finish_member(comparison, members[index], index, (run_id, status), progress)
                if status == "interrupted":
                    interrupted_code = code
                if stop.signum is None and not interrupted_code:
                    hand_out()
    if stop.signum is not None:
        return "interrupted", 128 + stop.signum
    return ("interrupted", interrupted_code) if interrupted_code else ("completed", 0)


def _pool_result(future: Future, member: Member) -> tuple[str | None, str, int]:
    try:
        return future.result()
    except Exception as exc:  # the worker died: the member is failed, the others go on
        print(f"warning: member {member.entry.group} failed in its process: {exc}", file=sys.stderr)
        return None, "failed", 1
