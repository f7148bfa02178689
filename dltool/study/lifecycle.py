"""A study's lifecycle, once for every kind: the worker server, a writable runs folder, the kind's start
(its input checked and its folder made or found), the members run, then the end: results judged once from
the members' files, and the pictures, study.json, results.csv, results.md and report.html all rendered
from them. Exit code 1 where a member failed, 130/143 when interrupted."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dltool.results.table import ResultsTable
from dltool.store.run import RunStore, now_iso
from dltool.store.study import StudyEnd, StudyFolder
from dltool.study.claims import Claim
from dltool.study.kinds import draw, kind_of
from dltool.study.members import StudyOptions, Work, run_in_pool, run_members
from dltool.study.page import write_study_page
from dltool.study.results_text import results_markdown
from dltool.train.workers import start_workers_early


@dataclass(frozen=True)
class Launch:
    """What a kind's start has made ready: the folder, the members to run (None: none) and the clock."""

    study: StudyFolder
    work: Work | None
    jobs: int
    started: float  # perf_counter() at the start, less the wall time of a continued study's earlier runs
    said: tuple[str, ...] = ()  # what the command says before the tables ("continued sweep ...")
    after: Callable[[], tuple[str, ...]] | None = None  # once the members have run: what the command says after
    claim: Claim | None = None  # this process's claim on the plan (dltool.study.claims), released at the end


@dataclass(frozen=True)
class StudyOutcome:
    study: StudyFolder
    status: str
    exit_code: int
    results: Any  # the kind's results value
    tables: list[ResultsTable]
    plots: list[Path]
    said: tuple[str, ...] = ()  # what the command says before the tables ("continued sweep ...")
    told: tuple[str, ...] = ()  # what it says after them (a tuning study's trials and best)


def run_study(start: Callable[[], Launch], options: StudyOptions) -> StudyOutcome:
    """Start (all input checked first), run the members, then conclude."""
    if options.cluster is None and (options.jobs is None or options.jobs > 1):
        start_workers_early()  # a no-op when the CLI has started it already
    RunStore(options.runs_dir).check_writable()
    launch = start()
    if options.cluster is not None:  # the cluster it ran on, as it was when this command joined it
        launch.study.record.header = replace(launch.study.record.header, cluster=options.cluster.describe())
        launch.study.write_record()
    try:
        return run_launched(launch, options)
    finally:
        if launch.claim is not None:
            launch.claim.release()


def run_launched(launch: Launch, options: StudyOptions) -> StudyOutcome:
    if launch.work is None:
        status, code = "completed", 0
    else:
        work = gathered(launch.work, options.engine, launch.jobs)
        if options.cluster is not None:
            from dltool.study.cluster_pool import RayPool  # ray: only where a study asked for a cluster

            status, code = run_in_pool(work, RayPool(), launch.jobs)
        else:
            status, code = run_members(work, launch.jobs, options.quiet)
    try:
        told = launch.after() if launch.after is not None else ()
        outcome = conclude(launch.study, status, code, launch.started, fork_ok=launch.jobs > 1)
    except KeyboardInterrupt:  # while its results were being written: interrupted, not a crash; show redoes them
        launch.study.set_status("interrupted")
        raise
    return replace(outcome, said=launch.said, told=told)


def gathered(work: Work, engine: str, jobs: int) -> Work:
    """The work with its population-ready members gathered (a fixed plan's, under the population engine)."""
    if engine != "population" or not getattr(work, "fixed", False):
        return work
    from dltool.study.populations import GroupedWork  # torch: only where members train

    return GroupedWork(work, jobs)


def conclude(study: StudyFolder, status: str, code: int, started: float, fork_ok: bool) -> StudyOutcome:
    """The study's results judged once, then everything that shows them rendered from that one value."""
    kind = kind_of(study)
    spec = kind.spec(study)
    results = kind.judge(study, spec)
    plots = draw(kind, study, spec, results, fork_ok) or []  # a failure is a warning: the tables still get written
    against, headline, stored = kind.stored(spec, results)
    rows = kind.member_rows(results)
    wall = round(time.perf_counter() - started, 3)
    study.finish(status, StudyEnd(now_iso(), wall, against, headline, stored, rows))
    tables = kind.tables(study, spec, results)
    if rows:
        study.write_member_table(rows)
    study.write_results_text(results_markdown(study, tables))
    write_study_page(study, tables)
    if status != "interrupted":
        code = 1 if kind.failed(results) else 0
    return StudyOutcome(study, status, code, results, tables, plots)
