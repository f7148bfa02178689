"""A shared storage's trials are claimed with Optuna's heartbeat, not a flag: the process that runs a trial
records a beat every HEARTBEAT_S; a trial whose process has not beaten for GRACE_S (it died, or its machine
did) is failed by the next process that asks for a trial, left out of the count, and queued again with its
values (Optuna's RetryHeartbeatStaleTrialCallback), so no trial stays RUNNING for ever. The study folder's
own SQLite file has no other process: its --resume continues such trials from their checkpoints instead
(dltool.study.tune_resume)."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator

HEARTBEAT_S = 20
GRACE_S = 90  # several missed beats: a busy machine is not a dead one
MAX_RETRIES = 3  # a trial whose processes keep dying (say, out of memory) is not retried for ever
RETRIED = "retry_history"  # Optuna's: on a retry, the numbers of the trials it retries (they count no more)


def heartbeat_options() -> dict:
    """RDBStorage's keyword arguments for trials claimed with a heartbeat."""
    import optuna

    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES)
    return {"heartbeat_interval": HEARTBEAT_S, "grace_period": GRACE_S, "heartbeat_stale_trial_callback": retry}


def retried(trials: list) -> set[int]:
    """The numbers of the trials a later trial retries: its retry counts in their place."""
    return {number for trial in trials for number in trial.system_attrs.get(RETRIED, ())}


def fail_stale_trials(study) -> None:
    """Fail (and queue again) the trials whose process stopped beating; none where the storage keeps no beat."""
    import optuna

    with quiet_heartbeat():
        optuna.storages.fail_stale_trials(study)


@contextlib.contextmanager
def quiet_heartbeat() -> Iterator[None]:
    """Optuna warns that its heartbeat is experimental and meant for Study.optimize (dltool asks and tells):
    said once here, in this module's docstring, not on every user's terminal."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
        yield


def keeps_heartbeat(study) -> bool:
    return study._storage.get_heartbeat_interval() is not None


class Heartbeat:
    """Beats for the trials `held()` returns, every HEARTBEAT_S, until `stop()`; a beat that fails (the server
    is briefly away) is tried again at the next one."""

    def __init__(self, study, held: Callable[[], list]) -> None:
        self.study, self.held, self.stopped = study, held, threading.Event()
        self.thread = threading.Thread(target=self._beat, name="dltool-heartbeat", daemon=True)
        self.thread.start()

    def beat(self, trial) -> None:
        self.study._storage.record_heartbeat(trial._trial_id)

    def _beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT_S):
            for trial in self.held():
                try:
                    self.beat(trial)
                except Exception:  # noqa: BLE001 - a lost beat is retried; GRACE_S spans several
                    continue

    def stop(self) -> None:
        self.stopped.set()
