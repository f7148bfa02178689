"""A study's member runs: one after another in this process (--jobs 1), or side by side in worker
processes. Each member trains the config its plan validated (a pydantic model pickles to a worker as
it is), and study.json records its run id and status as soon as it finishes.

What runs next comes from a Work: a fixed plan (a comparison, a sweep) or a sampler that is asked for
the next trial when a slot is free (a tuning study).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from dltool.config import Config
from dltool.plots.figure import import_matplotlib
from dltool.store.study import StudyFolder
from dltool.study.cluster import Cluster
from dltool.train.engine import StopFlag
from dltool.train.progress import MemberProgress
from dltool.train.run import resume, train
from dltool.train.workers import start_worker, worker_context


class Result(NamedTuple):
    """How a member ended: its run (None if it never got a folder), status, exit code and, if it failed, why."""

    run_id: str | None
    status: str
    exit_code: int
    error: str | None = None
    engine: str = "process"  # how it trained: in a worker or this process alone, or "population"


@dataclass(frozen=True)
class MemberJob:
    """One member to run: a new run of `config`, or its interrupted run `resume` continued from its checkpoint."""

    config: Config
    runs_dir: Path
    study: str
    resume: str | None = None
    watch: Watch | None = None  # a tuning trial's reports to its pruner

    @property
    def label(self) -> str:
        return self.config.label

    def run(self, quiet: bool = True) -> Result:
        return run_member(self, quiet)

    def failed(self, why: str, status: str = "failed", code: int = 1) -> Result:
        return Result(None, status, code, why)


class Watch(Protocol):
    def ready(self) -> None:
        """Called before the member trains (connections made here are not counted as training time)."""

    def __call__(self, record: dict) -> None:
        """Sees every metrics record; raises dltool.train.engine.Pruned to stop the run."""


class Work(Protocol):
    def jobs(self) -> Iterator[tuple[int, MemberJob]]:
        """The members to run, as (index in study.json, job); asked one at a time, when a slot is free."""

    def finished(self, index: int, result: Result) -> None:
        """A member has ended: record it."""


@dataclass(frozen=True)
class StudyOptions:
    """How to run a study of any kind, as opposed to what it runs (its request)."""

    runs_dir: Path | None = None
    jobs: int | None = None  # member processes; None: one per core (at most one per member)
    quiet: bool = False
    engine: str = "population"  # members that can train as one computation do (study/populations.py); or "process"
    cluster: Cluster | None = None  # a Ray cluster the members run on (dltool.study.cluster), None: this machine


def default_jobs(members: int) -> int:
    return max(1, min(os.cpu_count() or 1, members))


def run_job(job, quiet: bool = True):
    """A job in this process: a member (MemberJob) or a population (study/populations.py), each running
    itself. Top-level so worker processes can run it."""
    return job.run(quiet)


def run_member(job: MemberJob, quiet: bool = True) -> Result:
    """One member in this process."""
    if job.watch is not None:
        job.watch.ready()
    if job.resume is not None:
        outcome = resume(job.resume, job.runs_dir, quiet=quiet, plots=False, watch=job.watch)
    else:
        outcome = train(job.config, job.runs_dir, quiet=quiet, plots=False, study=job.study, watch=job.watch)
    error = outcome.summary.get("error") if outcome.status == "failed" else None
    return Result(outcome.run.id, outcome.status, outcome.exit_code, error)


class PlannedWork:
    """A fixed list of members (a comparison's, a sweep's); `indices` are the ones still to run."""

    fixed = True  # known before any runs: its members can be gathered into populations

    def __init__(self, study: StudyFolder, jobs: dict[int, MemberJob], progress: MemberProgress) -> None:
        self.study, self.planned, self.progress = study, jobs, progress

    def jobs(self) -> Iterator[tuple[int, MemberJob]]:
        return iter(self.planned.items())

    def finished(self, index: int, result: Result) -> None:
        self.study.member_finished(index, result.run_id, result.status, result.error, result.engine)
        self.progress.member_done(self.study.record.members[index], result.run_id, result.status)


def run_one_by_one(work: Work, quiet: bool) -> tuple[str, int]:
    """Members one after another in this process: ('completed', 0), or ('interrupted', 130 or 143).
    Each member's ThreadShare gives the process its thread count back when the member ends."""
    for index, job in work.jobs():
        try:
            # one member at a time: its own progress bar (members in a pool stay quiet, or their bars would mix)
            result = run_job(job, quiet)
        except KeyboardInterrupt:  # between two members' signal handlers
            return "interrupted", 130
        except Exception as exc:  # before its training (building its data or model): the others go on
            result = _failed(job, exc)
        work.finished(index, result)
        if result.status == "interrupted":  # the signal reached the member: it saved itself, stop here
            return "interrupted", result.exit_code
    return "completed", 0


def run_in_pool(work: Work, pool, jobs: int) -> tuple[str, int]:
    """Members in the pool's processes (a ProcessPoolExecutor, or a cluster's: dltool.study.cluster_pool),
    at most `jobs` handed out at a time: on SIGINT/SIGTERM
    nothing new starts (the pool queues ahead what it is given, so handing out everything at once would
    run members after the signal); the running ones stop at their next step if they got it too, else finish."""
    waiting = work.jobs()
    pending: dict[Future, tuple[int, MemberJob]] = {}
    interrupted_code = 0

    def hand_out() -> None:
        for index, job in itertools.islice(waiting, 1):
            pending[pool.submit(run_job, job)] = index, job

    with StopFlag() as stop:
        for _ in range(jobs):
            hand_out()
        import matplotlib.figure  # noqa: F401  (the plots come next: load them while the members train)

        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index, job = pending.pop(future)
                result = _pool_result(future, job)
                work.finished(index, result)
                if result.status == "interrupted":
                    interrupted_code = result.exit_code
                if stop.signum is None and not interrupted_code:
                    hand_out()
            if stop.signum is not None and hasattr(pool, "stop_running"):  # a cluster's tasks see no signal of ours
                pool.stop_running()
    if stop.signum is not None:
        return "interrupted", 128 + stop.signum
    return ("interrupted", interrupted_code) if interrupted_code else ("completed", 0)


def _pool_result(future: Future, job: MemberJob) -> Result:
    try:
        return future.result()
    except Exception as exc:  # the worker died, or the member failed before training: the others go on
        return _failed(job, exc)


def _failed(job, exc: Exception):
    why = f"{type(exc).__name__}: {exc}"
    print(f"warning: {job.label} failed: {why}", file=sys.stderr)
    return job.failed(why)


def run_members(work: Work, jobs: int, quiet: bool) -> tuple[str, int]:
    """A study's members here (jobs 1) or in a pool of worker processes: (status, exit code)."""
    if jobs == 1:
        return run_one_by_one(work, quiet)
    threading.Thread(target=import_matplotlib, daemon=True).start()  # for the plots, while the members train
    context, parent = worker_context(), os.getpid()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=start_worker, initargs=(parent,)
    ) as pool:
        return run_in_pool(work, pool, jobs)
