"""What a continued tuning study trains first: the trials this study started and did not finish. Each is
matched to its runs by its config's hash (dltool.study.reconcile): a trial whose run ended is told its
result, not trained again; one with a checkpoint continues from it; the rest train afresh. In the study
folder's own storage no other process can hold a RUNNING trial, so one that study.json does not list
(asked, then the process died) is trained too; in a shared storage another machine may be running it."""

from __future__ import annotations

from dltool.store.study import ENDED, StudyFolder
from dltool.study.kinds.tune import shared_storage
from dltool.study.members import MemberJob, Result
from dltool.study.reconcile import ENDED_RUNS, give_up_all_but, kept_run, runs_by_config
from dltool.study.sweep_plan import config_hash
from dltool.study.trials import SURPLUS, TrialWork


def resumable_trials(folder: StudyFolder, work: TrialWork, study) -> dict[int, MemberJob]:
    """The jobs that continue this study's unfinished trials, by index in study.json."""
    from optuna.trial import TrialState

    running = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    told = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))}
    told |= {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    runs, jobs, kept = runs_by_config(folder), {}, set()
    for index, member in enumerate(folder.record.members):
        if member.status in ENDED:
            kept.add(member.run_id)
        elif member.trial in told:  # told, then the process died before study.json said so
            kept.add(adopted(work, index, runs))
        elif member.trial in running:
            work.open[index] = trial_of(study, running.pop(member.trial))
            listed = folder.member_run(member)
            jobs.update(continued(work, index, ([listed] if listed else []), runs, kept))
    if shared_storage(folder) is None:
        for frozen in running.values():
            if any(entry.key not in frozen.params for entry in work.plan.space):
                unasked(study, frozen)
                continue
            index, _ = work.start(trial_of(study, frozen))
            jobs.update(continued(work, index, [], runs, kept))
    give_up_all_but(runs, kept)
    return jobs


def continued(work: TrialWork, index: int, listed: list, runs: dict, kept: set) -> dict[int, MemberJob]:
    """The member's job: none where its run has ended (its trial is told now), else its run continued from
    its checkpoint, or a fresh one."""
    config = work.plan.config(work.folder.record.members[index].point)
    run = kept_run(listed + runs.get(config_hash(config.to_dict()), []))
    kept.add(run.id if run else None)
    ended = run.status().get("status") if run else None
    if ended in ENDED_RUNS:
        work.finished(index, Result(run.id, ended, 0))
        return {}
    trial_id = work.open[index]._trial_id
    return {index: work.job(config, trial_id, run.id if run else None, run.folder.parent if run else None)}


def adopted(work: TrialWork, index: int, runs: dict) -> str | None:
    """A member whose trial Optuna already holds as told: its run's ending written into study.json (the trial
    is neither told again nor trained again); `failed` where no run of it ended."""
    member = work.folder.record.members[index]
    listed = work.folder.member_run(member)
    config = work.plan.config(member.point)
    run = kept_run(([listed] if listed else []) + runs.get(config_hash(config.to_dict()), []))
    ended = run.status().get("status") if run else None
    if ended in ENDED_RUNS:
        work.folder.member_finished(index, run.id, ended)
        return run.id
    work.folder.member_finished(index, None, "failed", "its trial was told, but no run of it ended")
    return None


def trial_of(study, frozen):
    import optuna

    return optuna.trial.Trial(study, frozen._trial_id)


def unasked(study, frozen) -> None:
    """A trial whose process died while Optuna was still proposing its values: it never ran. Left out of the
    count (as a surplus trial is) and failed, and a queued start point it had taken is queued again, so the
    study proposes what it would have."""
    from optuna.trial import TrialState

    study._storage.set_trial_system_attr(frozen._trial_id, SURPLUS, True)
    study.tell(trial_of(study, frozen), state=TrialState.FAIL)
    fixed = frozen.system_attrs.get("fixed_params")
    if fixed:
        study.enqueue_trial(fixed)
