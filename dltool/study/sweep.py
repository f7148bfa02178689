"""`dltool sweep`: plan the grid's members, run those not completed yet, then write the sorted results
table and the plots in runs/<sweep-id>/.

A sweep is resumable: `--resume SWEEP`, or the same command again, finds the sweep with the same plan
(its members' config hashes) and runs only its members that have not ended, continuing an interrupted
member from its checkpoint. Members are ordinary runs that name the sweep in their status.json.
"""

from __future__ import annotations

import time
from pathlib import Path

from dltool.errors import UsageError
from dltool.store.items import read_listing
from dltool.store.run import RunStore, now_iso, this_process
from dltool.store.study import StudyFolder, StudyHeader
from dltool.store.study_damage import reading
from dltool.study.claims import Claim, claim
from dltool.study.compare import check_setups
from dltool.study.kinds.sweep import SweepKind, SweepSpec
from dltool.study.lifecycle import Launch, StudyOutcome, run_study
from dltool.study.members import MemberJob, PlannedWork, StudyOptions, default_jobs
from dltool.study.rebuild import damaged_study_of, rebuilt
from dltool.study.reconcile import ENDED_RUNS, ended_for_good, give_up_all_but, kept_run, runs_by_config
from dltool.study.resume import study_to_resume
from dltool.study.sweep_plan import SweepPlan, SweepRequest, plan_sweep, replan
from dltool.train.progress import MemberProgress


def sweep(request: SweepRequest | None, options: StudyOptions, resume: str | None = None) -> StudyOutcome:
    """A new sweep of `request`, the earlier one with the same plan, or the sweep `resume` names."""
    return run_study(lambda: _start(request, options, resume), options)


def _start(request: SweepRequest | None, options: StudyOptions, resume: str | None) -> Launch:
    if resume is not None:
        study = study_to_resume(options.runs_dir, resume, SweepKind)
        spec = SweepKind().spec(study)
        with reading(study.id, "plan"):
            plan = replan(study.record.header.source, spec.model_dump(), study.record.header.seeds)
    else:
        plan, study = plan_sweep(request), None
    held = _claim(options.runs_dir, plan)  # before looking for an earlier sweep: two started together find one
    try:
        if resume is not None:
            return _launch(plan, study, options, held)
        earlier, said = _same_plan(options.runs_dir, plan, options)
        return _launch(plan, earlier, options, held, said)
    except BaseException:
        held.release()
        raise


def _launch(plan: SweepPlan, study: StudyFolder | None, options: StudyOptions, held: Claim, said=()) -> Launch:
    check_setups(plan, options.cluster)
    jobs = options.jobs or default_jobs(len(plan.members))
    if study is None:
        study = StudyFolder.start(options.runs_dir, _header(plan, jobs), [m.entry for m in plan.members])
    else:
        study.set_status("running")
        said = (*said, f"continued sweep {study.id} (members already ended are not run again)")
    started = time.perf_counter() - study.wall_time_so_far()  # a continued sweep's wall time adds up
    with reading(study.id, "members"):
        todo = _jobs_to_run(study, plan)
    progress = MemberProgress(len(todo), options.quiet, bar=jobs > 1)
    work = PlannedWork(study, todo, progress) if todo else None
    return Launch(study, work, jobs, started, said, claim=held)


def _claim(runs_dir: Path | None, plan: SweepPlan) -> Claim:
    """This process's claim on the plan (dltool.study.claims): no other process runs its members meanwhile."""
    held = claim(RunStore(runs_dir).root, SweepKind.name, plan.key)
    if held is None:
        raise UsageError("a sweep with this plan is running in another process; wait for it (dltool runs)")
    return held


def _same_plan(runs_dir: Path | None, plan: SweepPlan, options: StudyOptions) -> tuple[StudyFolder | None, tuple]:
    """The newest sweep with this plan (none running): the same command continues it; else a damaged sweep
    whose runs are members of this plan, its study.json rebuilt (dltool.study.rebuild). What to say of it."""
    root = RunStore(runs_dir).root
    if not root.is_dir():
        return None, ()
    listing = read_listing(root)
    for study in listing.studies:
        if study.kind == SweepKind.name and study.record.header.plan.get("key") == plan.key:
            if study.record.shown_status == "running":
                raise UsageError(
                    f"sweep '{study.id}' with this plan is running (pid {study.record.header.pid}); wait for it"
                )
            return study, ()
    damaged = damaged_study_of(listing, SweepKind.name, {member.entry.key for member in plan.members})
    if damaged is None:
        return None, ()
    header = _header(plan, options.jobs or default_jobs(len(plan.members)))
    study, said = rebuilt(damaged, header, [member.entry for member in plan.members])
    return study, (said,)


def _jobs_to_run(study: StudyFolder, plan: SweepPlan) -> dict[int, MemberJob]:
    """The members that have not ended: an interrupted one (or one whose process died) continues from its
    checkpoint, the others start afresh. Each member's runs are found by their config's hash, so a member
    whose run has ended is never trained again, whatever study.json says (dltool.study.reconcile)."""
    recorded = study.record.members
    if [m.key for m in recorded] != [m.entry.key for m in plan.members]:
        raise UsageError(f"sweep '{study.id}': study.json lists other members than its plan makes; start a new sweep")
    runs, todo, kept = runs_by_config(study), {}, set()
    for index, (entry, member) in enumerate(zip(recorded, plan.members)):
        if ended_for_good(study, entry):
            kept.add(entry.run_id)
            continue
        listed = study.member_run(entry)
        run = kept_run(([listed] if listed else []) + runs.get(entry.key, []))
        kept.add(run.id if run else None)
        ended = run.status().get("status") if run else None
        if ended in ENDED_RUNS:
            study.member_finished(index, run.id, ended)
            continue
        where = run.folder.parent if run else study.members_root  # an earlier version's run: beside the study
        todo[index] = MemberJob(member.config, where, study.id, run.id if run else None)
    give_up_all_but(runs, kept)
    return todo


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
