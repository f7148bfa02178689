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
from dataclasses import dataclass, replace
from pathlib import Path

from dltool.store.run import RunStore, now_iso, this_process
from dltool.store.study import StudyFolder, StudyHeader
from dltool.study.figures import draw_plots
from dltool.study.members import CompareOptions, MemberJob, PlannedWork, default_jobs, run_members
from dltool.study.page import write_study_page
from dltool.study.plan import Plan, PlanRequest, plan_comparison
from dltool.study.results import Verdict, judge, load_results
from dltool.study.tables import write_tables
from dltool.train.build import build_model_on_data
from dltool.train.distributed import World
from dltool.train.progress import MemberProgress
from dltool.train.workers import start_workers_early


@dataclass(frozen=True)
class Report:
    comparison: StudyFolder
    status: str
    exit_code: int
    verdict: Verdict
    plots: list[Path]  # the figures drawn


def compare_optimizers(request: PlanRequest, options: CompareOptions | None = None) -> Report:
    """Plan (all input checked first), run, then write the tables and plots; the caller shows the verdict."""
    options = options or CompareOptions()
    if options.jobs is None or options.jobs > 1:
        start_workers_early()  # a no-op when the CLI has started it already
    plan = plan_comparison(request)
    jobs = options.jobs or default_jobs(len(plan.members))
    RunStore(options.runs_dir).check_writable()
    check_setups(plan)
    tuning = []
    if request.tune:  # every optimizer tuned with the same budget, then compared at its best values
        from dltool.study.compare_tuning import tune_variants

        variants, tuning = tune_variants(plan, request.tune, request.tune_space, options)
        plan = plan_comparison(replace(request, variants=variants))
    progress = MemberProgress(len(plan.members), options.quiet)
    started = time.perf_counter()
    header = _header(plan, jobs, options.target, tuning)
    comparison = StudyFolder.start(options.runs_dir, header, [m.entry for m in plan.members])
    planned = {i: MemberJob(m.config, comparison.runs_root, comparison.id) for i, m in enumerate(plan.members)}
    status, code = run_members(PlannedWork(comparison, planned, progress), jobs, options.quiet)
    verdict = judge(load_results(comparison), options.target, plan.seeds, plan.target)
    plots = draw_plots(comparison, verdict, fork_ok=jobs > 1)
    write_tables(comparison, status, verdict, round(time.perf_counter() - started, 3))
    write_study_page(comparison)
    if status != "interrupted":
        code = 1 if any(r.status == "failed" for r in verdict.results) else 0
    return Report(comparison, status, code, verdict, plots)


def check_setups(plan: Plan) -> None:
    """Build each distinct model-on-data setup of the plan once, before the comparison folder exists:
    bad data (a damaged Fashion-MNIST file) or a model that does not fit it is a usage error that leaves
    nothing behind, not a folder of failed members. Members differ mostly in their optimizer: few builds."""
    seen = set()
    for member in plan.members:
        key = (repr(member.config.model), repr(member.config.data))
        if key not in seen:
            seen.add(key)
            # not the optimizer: building one imports torch._dynamo (1.1 s) in a process that trains nothing
            build_model_on_data(member.config, World())


def _header(plan: Plan, jobs: int, target: float | None, tuning: list[dict]) -> StudyHeader:
    return StudyHeader(
        plan.problem,
        plan.title,
        plan.source,
        plan.objective,
        started=now_iso(),
        jobs=jobs,
        seeds=plan.seeds,
        lr_scan=plan.lr_scan,
        batch_scan=plan.batch_scan,
        created=time.time(),
        given_target=target,
        plan={"target": plan.target, "tuning": tuning},
        **this_process(),  # pid and pid_start: a comparison whose process is gone has crashed
    )
