"""`dltool tune`: Optuna's seeded TPE sampler proposes trials, each an ordinary member run whose
evaluations feed a median pruner; at the end the trials table, the best config (best.yaml, which
`dltool train` runs as it is), the best trial's test metrics (measured once, after its training, never
used to select) and the plots go into runs/<tune-id>/.

Storage: an SQLite file in the study folder by default; with --storage URL, every process that runs
the same command (config, space, metric) joins one Optuna study, on this machine or others, and they
stop when the storage holds the requested number of trials. Ctrl-C leaves interrupted trials running
in the storage; `dltool tune --resume TUNE-ID` continues them from their checkpoints, then asks for more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from dltool.config import dump_config
from dltool.store.files import atomic_write_text
from dltool.store.items import resolve_study_to_resume
from dltool.store.run import RUN_FILES, RunStore, now_iso, this_process
from dltool.store.study import ENDED, STUDY_FILES, StudyFolder, StudyHeader
from dltool.study.figures import draw_point_plots
from dltool.study.members import CompareOptions, default_jobs, run_members
from dltool.study.optuna_storage import file_lock, open_storage, sqlite_path
from dltool.study.page import write_study_page
from dltool.study.point_results import PointsVerdict, judge_points, write_point_tables
from dltool.study.space import parse_space
from dltool.study.trials import TrialWork, counted
from dltool.study.tune_plan import TunePlan, TuneRequest, plan_tune
from dltool.text import format_value
from dltool.train.build import build_model_on_data
from dltool.train.distributed import World
from dltool.train.progress import MemberProgress
from dltool.train.workers import start_workers_early


@dataclass(frozen=True)
class TuneReport:
    study: StudyFolder
    status: str
    exit_code: int
    verdict: PointsVerdict
    plots: list[Path]
    trials_in_storage: int  # every process's trials, this one's and others'
    best: dict | None  # the best trial: number, value, params, run id, test metrics (once, after training)
    notes: tuple[str, ...]  # the objective and the best trial, in words


def tune(request: TuneRequest | None, options: CompareOptions, resume: str | None = None) -> TuneReport:
    """A new tuning study of `request`, or the one `resume` names continued; all input checked first."""
    if options.jobs is None or options.jobs > 1:
        start_workers_early()
    RunStore(options.runs_dir).check_writable()
    folder = resolve_study_to_resume(options.runs_dir, resume, "tune") if resume is not None else None
    plan = _replan(folder) if folder is not None else plan_tune(request)
    url = folder.record.header.plan["storage"] if folder is not None else request.storage
    return run_tuning(plan, options, folder, url)


def run_tuning(plan: TunePlan, options: CompareOptions, folder: StudyFolder | None, url: str | None) -> TuneReport:
    """Tune `plan` in a new study folder, or continue `folder`; in the storage `url` (None: the folder's SQLite)."""
    jobs = options.jobs or default_jobs(plan.trials)
    if url is not None:
        storage = open_storage(url)  # before the folder exists: a bad URL leaves nothing behind
    build_model_on_data(plan.config(_first_params(plan)), World())  # bad data: an error, not failed trials
    if folder is None:
        folder = StudyFolder.start(options.runs_dir, _header(plan, jobs, url), [])
        if url is None:
            url = f"sqlite:///{folder.path(STUDY_FILES.optuna).resolve()}"
            storage = open_storage(url)
            folder.record.header.plan["storage"] = url  # written by set_status, next
    folder.set_status("running")
    study = _optuna_study(plan, storage, url)
    started = time.perf_counter() - folder.wall_time_so_far()  # a continued study's wall time adds up
    work = TrialWork(folder, plan, study, url, MemberProgress(plan.trials, options.quiet))
    work.resumed = _resumable(folder, work, study)
    status, code = run_members(work, jobs, options.quiet)
    verdict = judge_points(folder)
    best = _best(folder, plan, study)
    plots = draw_point_plots(folder, verdict)
    notes = best_lines(plan, best)
    write_point_tables(folder, status, verdict, round(time.perf_counter() - started, 3), notes)
    write_study_page(folder)
    if status != "interrupted":
        code = 1 if any(r.status == "failed" for r in verdict.results) else 0
    return TuneReport(folder, status, code, verdict, plots, len(counted(study.get_trials())), best, notes)


def _optuna_study(plan: TunePlan, storage, url: str):
    import optuna

    sampler = optuna.samplers.TPESampler(seed=plan.base.get("seed", 0))
    # few trials finish before pruning starts, and no trial is judged on its first evaluation
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    with file_lock(sqlite_path(url)):  # the first of several processes creates it, the others load it
        return optuna.create_study(
            storage=storage,
            study_name=plan.study_name,
            direction=plan.direction,
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )


def _first_params(plan: TunePlan) -> dict:
    return {entry.key: entry.corners()[0] for entry in plan.space}


def _replan(folder: StudyFolder) -> TunePlan:
    plan = folder.record.header.plan
    space = [parse_space(text) for text in plan["space_given"]]
    header = folder.record.header
    return TunePlan(header.source, plan["base"], space, plan["trials"], plan["metric"], plan["prune"], plan["split"])


def _resumable(folder: StudyFolder, work: TrialWork, study) -> dict:
    """Trials this study started and did not finish (interrupted, or its process died): continued from the
    member's checkpoint where there is one, else trained again; each keeps its Optuna trial."""
    from optuna.trial import TrialState

    running = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    jobs = {}
    for index, member in enumerate(folder.record.members):
        if member.trial in running and member.status not in ENDED:
            frozen = running[member.trial]
            work.open[index] = _trial_of(study, frozen)
            run = folder.member_run(member)
            resume = run.id if run is not None and run.path(RUN_FILES.checkpoint).is_file() else None
            jobs[index] = work.job(work.plan.config(member.point), frozen._trial_id, resume)
    return jobs


def _trial_of(study, frozen):
    import optuna

    return optuna.trial.Trial(study, frozen._trial_id)


def _best(folder: StudyFolder, plan: TunePlan, study) -> dict | None:
    """The best completed trial of the whole study (every process's): its config written as best.yaml,
    its test metrics from its own run (evaluated once, after training) where this process ran it."""
    try:
        best = study.best_trial
    except ValueError:  # no trial has completed
        return None
    params = {entry.key: entry.value(best.params[entry.key]) for entry in plan.space}
    config = plan.best_config(params)
    header = f"# best of tuning study {folder.id}: trial {best.number}, {plan.metric} {best.value:.6g}\n"
    atomic_write_text(folder.path(STUDY_FILES.best_config), header + dump_config(config))
    member = next((m for m in folder.record.members if m.trial == best.number and m.run_id), None)
    run = folder.member_run(member) if member is not None else None
    final = run.snapshot().summary.get("final", {}) if run is not None else {}
    test = {key: value for key, value in final.items() if key.startswith("test_")}
    return {"trial": best.number, "value": best.value, "params": params, "run_id": run and run.id, "test": test}


def best_lines(plan: TunePlan, best: dict | None) -> tuple[str, ...]:
    """What the terminal and results.md say of the objective and the best trial."""
    lines = [f"objective: {plan.objective_text()}"]
    if best is not None:
        params = " ".join(f"{key}={format_value(value)}" for key, value in best["params"].items())
        lines.append(f"best: trial {best['trial']}, {plan.metric} {best['value']:.6g}: {params}")
        if best["test"]:
            tested = ", ".join(f"{key} {value:.4f}" for key, value in best["test"].items())
            lines.append(f"its test metrics, measured once after training (not used to select): {tested}")
    return tuple(lines)


def _header(plan: TunePlan, jobs: int, url: str | None) -> StudyHeader:
    keys = ", ".join(entry.key for entry in plan.space)
    config = plan.config(_first_params(plan))
    return StudyHeader(
        problem=f"{config.label}-{config.optimizer.name}",  # the study id says what is tuned
        title=f"tuning {keys} on {Path(plan.source).name}",
        source=plan.source,
        objective=None,
        started=now_iso(),
        jobs=jobs,
        seeds=1,
        lr_scan=False,
        batch_scan=False,
        created=time.time(),
        kind="tune",
        plan={
            "base": plan.base,
            "space": {entry.key: entry.describe() for entry in plan.space},
            "space_given": [entry.given for entry in plan.space],
            "trials": plan.trials,
            "metric": plan.metric,
            "prune": plan.prune,
            "split": plan.split,
            "storage": url,
            "study_name": plan.study_name,
            "notes": [f"objective: {plan.objective_text()}"],
        },
        **this_process(),
    )
