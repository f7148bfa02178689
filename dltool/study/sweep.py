"""`dltool sweep`: plan the grid's members, run those not completed yet, then write the sorted results
table and the plots in runs/<sweep-id>/.

A sweep is resumable: `--resume SWEEP`, or the same command again, finds the sweep with the same plan
(its members' config hashes) and runs only its members that have not ended, continuing an interrupted
member from its checkpoint. Members are ordinary runs that name the sweep in their status.json.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from dltool.config import read_yaml
from dltool.errors import UsageError
from dltool.store.items import read_listing
from dltool.store.run import RUN_FILES, Run, RunStore, now_iso, this_process
from dltool.store.study import ENDED, StudyFolder, StudyHeader
from dltool.study.compare import check_setups
from dltool.study.kinds.sweep import SweepKind, SweepSpec
from dltool.study.lifecycle import Launch, StudyOutcome, run_study
from dltool.study.members import MemberJob, PlannedWork, StudyOptions, default_jobs
from dltool.study.resume import study_to_resume
from dltool.study.sweep_plan import SweepPlan, SweepRequest, config_hash, plan_sweep, replan
from dltool.train.progress import MemberProgress


def sweep(request: SweepRequest | None, options: StudyOptions, resume: str | None = None) -> StudyOutcome:
    """A new sweep of `request`, the earlier one with the same plan, or the sweep `resume` names."""
    return run_study(lambda: _start(request, options, resume), options)


def _start(request: SweepRequest | None, options: StudyOptions, resume: str | None) -> Launch:
    if resume is not None:
        study = study_to_resume(options.runs_dir, resume, SweepKind)
        spec = SweepKind().spec(study)
        plan = replan(study.record.header.source, spec.model_dump(), study.record.header.seeds)
    else:
        plan = plan_sweep(request)
        study = _same_plan(options.runs_dir, plan)
    check_setups(plan)
    jobs = options.jobs or default_jobs(len(plan.members))
    said = ()
    if study is None:
        study = StudyFolder.start(options.runs_dir, _header(plan, jobs), [m.entry for m in plan.members])
    else:
        study.set_status("running")
        said = (f"continued sweep {study.id} (members already ended are not run again)",)
    started = time.perf_counter() - study.wall_time_so_far()  # a continued sweep's wall time adds up
    todo = _jobs_to_run(study, plan)
    work = PlannedWork(study, todo, MemberProgress(len(todo), options.quiet)) if todo else None
    return Launch(study, work, jobs, started, said)


def _same_plan(runs_dir: Path | None, plan: SweepPlan) -> StudyFolder | None:
    """The newest sweep with this plan (none running): the same command continues it."""
    root = RunStore(runs_dir).root
    for study in read_listing(root).studies if root.is_dir() else []:
        if study.kind == SweepKind.name and study.record.header.plan.get("key") == plan.key:
            if study.record.shown_status == "running":
                raise UsageError(
                    f"sweep '{study.id}' with this plan is running (pid {study.record.header.pid}); wait for it"
                )
            return study
    return None


def _jobs_to_run(study: StudyFolder, plan: SweepPlan) -> dict[int, MemberJob]:
    """The members that have not ended: an interrupted one (or one whose process died) continues from its
    checkpoint, the others start afresh."""
    recorded = study.record.members
    if [m.key for m in recorded] != [m.entry.key for m in plan.members]:
        raise UsageError(f"sweep '{study.id}': study.json lists other members than its plan makes; start a new sweep")
    orphans = _orphans(study)
    todo = {}
    for index, (entry, member) in enumerate(zip(recorded, plan.members)):
        if entry.status in ENDED:
            continue
        run = study.member_run(entry) or orphans.get(entry.key)
        resumable = run is not None and run.path(RUN_FILES.checkpoint).is_file() and _unfinished(run)
        todo[index] = MemberJob(member.config, study.runs_root, study.id, run.id if resumable else None)
    return todo


def _orphans(study: StudyFolder) -> dict[str, Run]:
    """Member runs study.json does not list (the sweep's process died while they ran), by config hash."""
    listed, found = study.member_ids(), {}
    for run in read_listing(study.runs_root).members.get(study.id, []):
        if run.id not in listed:
            with contextlib.suppress(UsageError):  # a damaged config.yaml: that run starts afresh
                found[config_hash(read_yaml(run.path(RUN_FILES.config)))] = run
    return found


def _unfinished(run: Run) -> bool:
    return run.status().get("status") in ("running", "interrupted", "failed")


def _header(plan: SweepPlan, jobs: int) -> StudyHeader:
    keys = ", ".join(plan.grid)
    spec = SweepSpec(base=plan.base, grid=plan.grid, metric=plan.metric, key=plan.key)
    return StudyHeader(
        problem=plan.members[0].config.label,
        title=f"sweep of {keys} on {Path(plan.source).name}",
        source=plan.source,
        started=now_iso(),
        jobs=jobs,
        seeds=plan.seeds,
        created=time.time(),
        kind=SweepKind.name,
        plan=spec.model_dump(),
        noun=SweepKind.noun,
        **this_process(),
    )
