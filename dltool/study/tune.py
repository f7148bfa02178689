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
from pathlib import Path
from typing import Any

from dltool.config import dump_config
from dltool.errors import NothingToDo
from dltool.files import atomic_write_text
from dltool.store.run import now_iso, this_process
from dltool.store.study import STUDY_FILES, StudyFolder, StudyHeader
from dltool.store.study_damage import reading
from dltool.study.cluster import check_members
from dltool.study.kinds.tune import TuneKind, TuneSpec, own_storage, shared_storage
from dltool.study.lifecycle import Launch, StudyOutcome, run_study
from dltool.study.members import StudyOptions, default_jobs
from dltool.study.optuna_storage import open_storage, shown_url, storage_lock
from dltool.study.populations import PopulationTrials
from dltool.study.resume import study_to_resume
from dltool.study.space import parse_space
from dltool.study.startup import STARTUP_TRIALS, edges, startup_points
from dltool.study.trials import TrialWork, counted
from dltool.study.tune_plan import TunePlan, TuneRequest, plan_tune
from dltool.study.tune_rebuild import lost_storage, rebuild_trials
from dltool.study.tune_resume import resumable_trials
from dltool.text import format_value
from dltool.train.build import build_model_on_data
from dltool.train.distributed import World
from dltool.train.population import population_key
from dltool.train.progress import MemberProgress

PROCESSES_OPENED = "dltool_processes_opened"  # the Optuna study's count of processes that opened it


def tune(request: TuneRequest | None, options: StudyOptions, resume: str | None = None) -> StudyOutcome:
    """A new tuning study of `request`, or the one `resume` names continued; all input checked first."""

    def start() -> Launch:
        folder = study_to_resume(options.runs_dir, resume, TuneKind) if resume is not None else None
        if folder is not None:
            with reading(folder.id, "plan"):
                plan = _replan(folder)
        else:
            plan = plan_tune(request)
        url = shared_storage(folder) if folder is not None else request.storage
        return start_tuning(plan, options, folder, url)

    return run_study(start, options)


def run_tuning(plan: TunePlan, options: StudyOptions) -> StudyOutcome:
    """Tune `plan` in a new study folder with its own SQLite storage (a comparison's --tune)."""
    return run_study(lambda: start_tuning(plan, options, None, None), options)


def start_tuning(plan: TunePlan, options: StudyOptions, folder: StudyFolder | None, url: str | None) -> Launch:
    """Tune `plan` in a new study folder, or continue `folder`; in the storage `url` (None: the folder's SQLite)."""
    jobs = options.jobs or default_jobs(plan.trials)
    # before the folder exists: a bad URL leaves nothing; a shared storage's trials are claimed with a heartbeat
    storage = open_storage(url, heartbeat=True) if url is not None else None
    if folder is None and storage is not None:
        check_not_finished(plan, storage, url)
    first = plan.config(_first_params(plan))
    check_members(options.cluster, [("trial 0", first)])
    build_model_on_data(first, World())  # bad data: an error, not failed trials
    if folder is None:
        folder = StudyFolder.start(options.runs_dir, _header(plan, jobs, url), [])
    said = ()
    if storage is None:  # the folder's own SQLite file, wherever the folder is now (moved or copied)
        lost, url = lost_storage(folder), own_storage(folder)
        storage = open_storage(url)
        said = (rebuild_trials(folder, plan, storage),) if lost else ()
    folder.set_status("running")
    study, seed = _optuna_study(plan, storage, url)
    folder.update_plan(sampler_seeds=[*TuneKind().spec(folder).sampler_seeds, seed])
    started = time.perf_counter() - folder.wall_time_so_far()  # a continued study's wall time adds up
    progress = MemberProgress(plan.trials, options.quiet, bar=jobs > 1)
    if options.engine == "population" and population_key(plan.config(_first_params(plan))) is not None:
        work = PopulationTrials(folder, plan, study, url, progress, processes=jobs)
    else:
        work = TrialWork(folder, plan, study, url, progress)
    work.resumed = resumable_trials(folder, work, study)
    return Launch(folder, work, jobs, started, said, after=lambda: _conclude_trials(folder, plan, study, work))


def check_not_finished(plan: TunePlan, storage, url: str) -> None:
    """Joining a shared study that already holds its trials, none running or queued: said, and no folder made
    (it would hold no run of its own)."""
    import optuna

    try:
        study = optuna.load_study(study_name=plan.study_name, storage=storage)
    except KeyError:  # no such study yet: this process creates it
        return
    trials = study.get_trials(deepcopy=False)
    done = counted(trials)
    if len(done) < plan.trials or any(trial.state.name in ("RUNNING", "WAITING") for trial in trials):
        return
    best = f"; best: trial {study.best_trial.number}, {plan.metric} {study.best_value:.6g}" if _completed(done) else ""
    raise NothingToDo(
        f"tuning study '{plan.study_name}' in --storage '{shown_url(url)}' already holds its {len(done)} of "
        f"{plan.trials} trials{best}; nothing to run, no folder made (more trials: the same command with a "
        "larger --trials; the study folders of the processes that ran them hold their runs and pictures)"
    )


def _completed(trials: list) -> bool:
    return any(trial.state.name == "COMPLETE" for trial in trials)


def _conclude_trials(folder: StudyFolder, plan: TunePlan, study, work: TrialWork) -> tuple[str, ...]:
    """Once the trials have run: the best trial into study.json and best.yaml, its lines into the notes
    every table shows; what the command says after the table."""
    work.stop_beating()
    with reading(folder.id, "Optuna storage's trials"):  # rows edited or deleted in optuna.db
        best = _best(folder, plan, study)
    folder.update_plan(best=best, notes=list(best_lines(plan, best)))
    told = [f"trials in the storage: {len(counted(study.get_trials()))} of {plan.trials} "
            f"(this process ran {len(folder.record.members)})"]  # fmt: skip
    if best is not None:
        told.append(f"train the best: dltool train {folder.path(STUDY_FILES.best_config)}")
    return tuple(told)


def _optuna_study(plan: TunePlan, storage, url: str) -> tuple[Any, int]:
    """The Optuna study, and the seed of this process's sampler: the study's seed for the first process
    that opens it, then one more for each process that joins or resumes it, so that no two propose the same
    trials (a shared database without a lock may, rarely, give two the same: their proposals still differ
    from the first's)."""
    import optuna

    # few trials finish before pruning starts, and no trial is judged on its first evaluation
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    with storage_lock(url):  # the first of several processes creates it, the others load it
        study = optuna.create_study(
            storage=storage, study_name=plan.study_name, direction=plan.direction, pruner=pruner, load_if_exists=True
        )
        if not study.get_trials(deepcopy=False):  # a new study: its quasi-random start, queued for every process
            for params in startup_points(plan.space, min(plan.trials, STARTUP_TRIALS), plan.seed):
                study.enqueue_trial(params)
        opened = int(study.user_attrs.get(PROCESSES_OPENED, 0))
        study.set_user_attr(PROCESSES_OPENED, opened + 1)
    seed = plan.seed + opened
    study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS)
    return study, seed


def _first_params(plan: TunePlan) -> dict:
    return {entry.key: entry.corners()[0] for entry in plan.space}


def _replan(folder: StudyFolder) -> TunePlan:
    spec = TuneKind().spec(folder)
    space = [parse_space(text) for text in spec.space_given]
    return TunePlan(folder.record.header.source, spec.base, space, spec.trials, spec.metric, spec.prune, spec.split)


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
    lines = [f"objective: {plan.objective_text()}", f"search: {plan.search_text()}"]
    if best is not None:
        params = " ".join(f"{key}={format_value(value)}" for key, value in best["params"].items())
        lines.append(f"best: trial {best['trial']}, {plan.metric} {best['value']:.6g}: {params}")
        lines += edges(plan.space, best["params"])
        if best["test"]:
            tested = ", ".join(f"{key} {value:.4f}" for key, value in best["test"].items())
            lines.append(f"its test metrics, measured once after training (not used to select): {tested}")
    return tuple(lines)


def _header(plan: TunePlan, jobs: int, url: str | None) -> StudyHeader:
    keys = ", ".join(entry.key for entry in plan.space)
    config = plan.config(_first_params(plan))
    spec = TuneSpec(
        base=plan.base,
        space={entry.key: entry.describe() for entry in plan.space},
        space_given=[entry.given for entry in plan.space],
        trials=plan.trials,
        metric=plan.metric,
        prune=plan.prune,
        split=plan.split,
        storage=url,  # None: the folder's own SQLite file
        study_name=plan.study_name,
        notes=[f"objective: {plan.objective_text()}", f"search: {plan.search_text()}"],
        sampler_seed=plan.seed,
    )
    return StudyHeader(
        problem=f"{config.label}-{config.optimizer.name}",  # the study id says what is tuned
        title=f"tuning {keys} on {Path(plan.source).name}",
        source=plan.source,
        started=now_iso(),
        jobs=jobs,
        seeds=1,
        created=time.time(),
        kind=TuneKind.name,
        plan=spec.model_dump(),
        noun=TuneKind.noun,
        **this_process(),
    )
