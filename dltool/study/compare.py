"""`dltool compare-optimizers`: plan the member runs, run them (in parallel processes with --jobs),
then judge their stored results and write the tables and plots in runs/<comparison-id>/.

Members are ordinary runs in the runs folder that name the comparison in their status.json (`dltool
show` works on each, and on the comparison's id: dltool.store.items); the comparison folder
(dltool.store.study) holds study.json (written at the start and after every member, so a crash
loses nothing), results.csv / .md and plots/. A diverged or failed member is a result, not the end
of the comparison; Ctrl-C stops after the running members and still writes what was measured.
"""

from __future__ import annotations

import time
from dataclasses import replace

from dltool.store.run import now_iso, this_process
from dltool.store.study import StudyFolder, StudyHeader
from dltool.study.cluster import Cluster, check_members
from dltool.study.kinds.compare import CompareKind, CompareSpec
from dltool.study.lifecycle import Launch, StudyOutcome, run_study
from dltool.study.members import MemberJob, PlannedWork, StudyOptions, default_jobs
from dltool.study.plan import Plan, PlanRequest, plan_comparison
from dltool.train.build import build_model_on_data
from dltool.train.distributed import World
from dltool.train.progress import MemberProgress


def compare_optimizers(request: PlanRequest, options: StudyOptions | None = None) -> StudyOutcome:
    """Plan (all input checked first), run, then write the tables and plots; the caller shows the verdict."""
    options = options or StudyOptions()
    return run_study(lambda: _start(request, options), options)


def _start(request: PlanRequest, options: StudyOptions) -> Launch:
    plan = plan_comparison(request)
    check_setups(plan, options.cluster)
    tuning = []
    if request.tune:  # every optimizer tuned with the same budget, then compared at its best values
        from dltool.study.compare_tuning import tune_variants

        variants, tuning = tune_variants(plan, request.tune, request.tune_space, options, request.common_draws)
        plan = plan_comparison(replace(request, variants=variants))
    jobs = options.jobs or default_jobs(len(plan.members))
    started = time.perf_counter()
    header = _header(plan, jobs, request.target_loss, tuning)
    comparison = StudyFolder.start(options.runs_dir, header, [m.entry for m in plan.members])
    planned = {i: MemberJob(m.config, comparison.members_root, comparison.id) for i, m in enumerate(plan.members)}
    progress = MemberProgress(len(plan.members), options.quiet, bar=jobs > 1)
    return Launch(comparison, PlannedWork(comparison, planned, progress), jobs, started)


def check_setups(plan: Plan, cluster: Cluster | None = None) -> None:
    """Build each distinct model-on-data setup of the plan once, before the comparison folder exists:
    bad data (a damaged Fashion-MNIST file) or a model that does not fit it is a usage error that leaves
    nothing behind, not a folder of failed members. Members differ mostly in their optimizer: few builds.
    On a cluster, a member that no node has the resources for is refused too."""
    check_members(cluster, [(f"{m.entry.group} seed {m.config.seed}", m.config) for m in plan.members])
    seen = set()
    for member in plan.members:
        key = (repr(member.config.model), repr(member.config.data))
        if key not in seen:
            seen.add(key)
            # not the optimizer: building one imports torch._dynamo (1.1 s) in a process that trains nothing
            build_model_on_data(member.config, World())


def _header(plan: Plan, jobs: int, target: float | None, tuning: list[dict]) -> StudyHeader:
    spec = CompareSpec(
        objective=plan.objective,
        lr_scan=plan.lr_scan,
        batch_scan=plan.batch_scan,
        given_target=target,
        target=plan.target,
        tuning=tuning,
        margin=plan.margin,
        deterministic=plan.deterministic,
        final_seeds=sorted({member.config.seed for member in plan.members}) if tuning else [],
        tuning_seed=plan.base_seed if tuning else None,
    )
    return StudyHeader(
        plan.problem,
        plan.title,
        plan.source,
        started=now_iso(),
        jobs=jobs,
        seeds=plan.seeds,
        created=time.time(),
        kind=CompareKind.name,
        plan=spec.model_dump(),
        noun=CompareKind.noun,
        **this_process(),  # pid and pid_start: a comparison whose process is gone has crashed
    )
