"""A tuning study whose own optuna.db was lost (deleted, or a copy made without it) is rebuilt from what
its folder still holds, never re-run in silence: each trial study.json lists becomes a finished trial again,
its values from the member's point and its result from the member's run (completed with the objective its
summary records, pruned, or failed); the quasi-random start points not yet tried are queued again. A trial
whose run never ended cannot be rebuilt as running: its member is marked failed and the study asks anew."""

from __future__ import annotations

from dataclasses import replace

from dltool.store.study import ENDED, STUDY_FILES, StudyFolder
from dltool.study.startup import STARTUP_TRIALS, startup_points
from dltool.study.trials import objective_of
from dltool.study.tune_plan import TunePlan


def lost_storage(folder: StudyFolder) -> bool:
    return bool(folder.record.members) and not folder.path(STUDY_FILES.optuna).exists()


def rebuild_trials(folder: StudyFolder, plan: TunePlan, storage) -> str:
    """The study's trials added to the empty `storage` from its members' runs; what the command says."""
    import optuna
    from optuna.trial import TrialState

    study = optuna.create_study(storage=storage, study_name=plan.study_name, direction=plan.direction)
    distributions = {entry.key: entry.distribution() for entry in plan.space}
    members = sorted(enumerate(folder.record.members), key=lambda pair: pair[1].trial or 0)
    rebuilt = 0
    for index, member in members:
        if member.status not in ENDED:
            folder.member_finished(index, None, "failed", "its trial was lost with optuna.db; the study asks anew")
            continue
        value = objective_of(plan, folder, member.run_id) if member.status == "completed" else None
        state = TrialState.COMPLETE if value is not None else TrialState[_ended(member.status)]
        params = {entry.key: entry.sampled(member.point[entry.key]) for entry in plan.space}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=value, state=state))
        folder.record.members[index] = replace(member, trial=rebuilt)  # the new storage's numbers, in the old order
        rebuilt += 1
    folder.write_record()
    for params in startup_points(plan.space, min(plan.trials, STARTUP_TRIALS), plan.seed)[rebuilt:]:
        study.enqueue_trial(params)
    return f"rebuilt {rebuilt} trials of {folder.id} from its member runs: its optuna.db was missing"


def _ended(status: str) -> str:
    return "PRUNED" if status == "pruned" else "FAIL"
