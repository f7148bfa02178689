"""A tuning study's trials as members: asked of Optuna one at a time, when a slot is free, each trained
as an ordinary run that reports its evaluations to Optuna (the median pruner may stop it), then told
its result. The number of trials is exact across processes: see dltool.study.optuna_storage.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dltool.results.points import METRICS
from dltool.store.study import MemberEntry, StudyFolder
from dltool.study.heartbeat import Heartbeat, fail_stale_trials, keeps_heartbeat, quiet_heartbeat, retried
from dltool.study.members import MemberJob, Result
from dltool.study.optuna_storage import SERVER_TIMEOUT_S, open_storage, server_timeout, trial_lock
from dltool.study.tune_plan import TunePlan
from dltool.train.engine import Pruned
from dltool.train.progress import MemberProgress

SURPLUS = "dltool_surplus"  # a trial asked for beyond the requested number (another machine was first)


@dataclass
class TrialWatch:
    """Sees a member's metrics records in its own process: reports each evaluation of the objective's
    split to Optuna and stops the run (Pruned) when the pruner says so. Pickles to a worker as plain data."""

    storage: str
    study_name: str
    trial_id: int
    split: str
    key: str  # loss or acc
    prune: bool
    timeout_s: float = SERVER_TIMEOUT_S  # --storage-timeout: the worker's own connection waits as long

    def wants(self, record: dict) -> bool:
        """An epoch's end (its evaluation of the split): what the pruner reads."""
        epoch = float(record.get("epoch", 0))
        evaluated = record.get("split") == self.split and record.get(self.key) is not None
        return evaluated and epoch > 0 and epoch.is_integer()

    def __call__(self, record: dict) -> None:
        """At each epoch's end: one report, the pruner's step being the epoch."""
        if not self.wants(record):
            return
        epoch = float(record["epoch"])
        trial = self._trial()
        trial.report(float(record[self.key]), int(epoch))
        if self.prune and trial.should_prune():
            raise Pruned(record["step"])

    def ready(self) -> None:
        """Opened before the member trains: its training time does not include connecting to the storage."""
        self._trial()

    def _trial(self):
        """The trial, opened once in the member's process (after pickling: the connection does not travel)."""
        if getattr(self, "_opened", None) is None:
            import optuna

            study = loaded_study(self.storage, self.study_name, self.timeout_s)
            self._opened = optuna.trial.Trial(study, self.trial_id)
        return self._opened

    def __getstate__(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "_opened"}


_LOADED: dict[tuple[str, str], Any] = {}  # (storage, study name) -> the study, once per process


def loaded_study(storage: str, name: str, timeout_s: float | None = None):
    """The Optuna study, loaded once per process: the members of a population, and the members a worker runs
    one after another, share one connection and the finished trials its cache holds (each trial's own
    connection cost 60 ms to open, and the pruner read every trial anew through it)."""
    if (storage, name) not in _LOADED:
        import optuna

        _LOADED[storage, name] = optuna.load_study(study_name=name, storage=open_storage(storage, timeout_s))
    return _LOADED[storage, name]


def counted(trials: list) -> list:
    """The trials that count towards the requested number: all but surplus ones, stale ones (their retry counts
    instead) and those still queued (the quasi-random start waits in the storage until a process asks for it)."""
    gone = retried(trials)
    return [
        trial
        for trial in trials
        if not trial.system_attrs.get(SURPLUS) and trial.number not in gone and trial.state.name != "WAITING"
    ]


class TrialWork:
    """The Work of a tuning study (dltool.study.members): trials asked until `plan.trials` exist in the storage."""

    def __init__(
        self, folder: StudyFolder, plan: TunePlan, study, storage_url: str, progress: MemberProgress, batch: int = 1
    ) -> None:
        self.folder, self.plan, self.study, self.url, self.progress = folder, plan, study, storage_url, progress
        self.open: dict[int, Any] = {}  # member index -> its Optuna trial
        self.resumed: dict[int, MemberJob] = {}  # interrupted trials to continue first (--resume)
        # trials asked at once: 1 (each trained on its own), or a population's worth (PopulationWork)
        self.batch = batch
        # a shared storage's trials beat while this process holds them (dltool.study.heartbeat)
        self.heartbeat = Heartbeat(study, lambda: list(self.open.values())) if keeps_heartbeat(study) else None

    def stop_beating(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()

    def jobs(self) -> Iterator[tuple[int, MemberJob]]:
        yield from self.resumed.items()
        while True:
            asked = self.ask()
            if not asked:
                return
            yield from self.batched(self.start_all(asked))

    def ask(self) -> list:
        """Up to `batch` new trials (none once the requested number exist): a batch is proposed from the
        trials finished before it, as Optuna's ask does for trials asked side by side."""
        with trial_lock(self.url):
            if self.heartbeat is not None:  # trials whose process died: failed, out of the count, queued again
                fail_stale_trials(self.study)
            left = self.plan.trials - len(counted(self.study.get_trials(deepcopy=False)))
            distributions = {entry.key: entry.distribution() for entry in self.plan.space}
            with quiet_heartbeat():
                asked = [self.study.ask(distributions) for _ in range(min(self.batch, max(left, 0)))]
        if not asked:
            return []
        numbers = sorted(t.number for t in counted(self.study.get_trials(deepcopy=False)))  # read once a batch
        return [trial for trial in asked if not self.surplus(trial, numbers)]

    def start_all(self, asked: list) -> list[tuple[int, MemberJob]]:
        return [self.start(trial) for trial in asked]

    def batched(self, started: list[tuple[int, MemberJob]]) -> Iterator[tuple[int, MemberJob]]:
        """A batch's trials as they are to run: here, each on its own (PopulationWork gathers them)."""
        return iter(started)

    def surplus(self, trial, numbers: list[int]) -> bool:
        """A trial beyond the requested number: a process on another machine (no shared lock) asked at the same
        time. Marked so no count includes it, and told failed so no process waits for it. `numbers`: the
        counted trials' numbers, sorted (a surplus one among them changes no later answer: the trials counted
        before it are before the later ones too)."""
        if bisect.bisect_left(numbers, trial.number) < self.plan.trials:
            return False
        self.study._storage.set_trial_system_attr(trial._trial_id, SURPLUS, True)
        self.study.tell(trial, state=_state("FAIL"))
        return True

    def start(self, trial) -> tuple[int, MemberJob]:
        params = {entry.key: entry.value(trial.params[entry.key]) for entry in self.plan.space}
        config = self.plan.config(params)
        label = f"trial {trial.number}"
        options = config.optimizer.options
        entry = MemberEntry(
            label, label, "", config.optimizer.name, config.optimizer.impl, config.seed, options,
            options.get("lr", 0.0), config.data.batch_size, point=params, trial=trial.number,
        )  # fmt: skip
        index = self.folder.add_member(entry)
        self.open[index] = trial
        if self.heartbeat is not None:  # beats from now: a trial without one is never taken for stale
            self.heartbeat.beat(trial)
        return index, self.job(config, trial._trial_id)

    def job(self, config, trial_id: int, resume: str | None = None, where=None) -> MemberJob:
        """The trial's member job: a new run in the study's members/, or `resume` continued where it is."""
        key = "acc" if self.plan.metric == "acc" else "loss"
        plan = self.plan
        watch = TrialWatch(self.url, plan.study_name, trial_id, plan.split, key, plan.prune, server_timeout())
        return MemberJob(config, where or self.folder.members_root, self.folder.id, resume, watch)

    def finished(self, index: int, result: Result) -> None:
        run_id, status = result.run_id, result.status
        self.folder.member_finished(index, run_id, status, result.error, result.engine)
        self.progress.member_done(self.folder.record.members[index], run_id, status)
        trial = self.open.pop(index)
        if status == "interrupted":
            return  # stays running in the storage: --resume continues it
        if self.heartbeat is not None and self.study._storage.get_trial(trial._trial_id).state.is_finished():
            return  # another process failed it meanwhile (its beats were late): its retry counts in its place
        value = self.objective(run_id) if status == "completed" else None
        if value is not None:
            self.study.tell(trial, value)
        else:  # pruned at its last report; a diverged or failed trial tells the sampler nothing
            self.study.tell(trial, state=_state("PRUNED" if status == "pruned" else "FAIL"))

    def objective(self, run_id: str | None) -> float | None:
        return objective_of(self.plan, self.folder, run_id)


def objective_of(plan: TunePlan, folder: StudyFolder, run_id: str | None) -> float | None:
    """A completed trial's value, as its run's summary.json records it."""
    if run_id is None:
        return None
    stat = METRICS[plan.metric][0]
    summary = folder.run_of(run_id).snapshot().summary
    section, key = ("best", "loss") if stat == "best_loss" else ("final", stat.removeprefix("final_"))
    return summary.get(section, {}).get(f"{plan.split}_{key}")


def _state(name: str):
    from optuna.trial import TrialState

    return TrialState[name]
