"""What a continued study believes of its members comes from their runs, not only from study.json: a
process killed outright may have finished runs that study.json does not list yet (a population writes it
once, at its end), and left runs `running` that will never end. So each member's runs are found by their
config's hash, one is kept (one that ended is never trained again; else the newest with a checkpoint is
continued), and every other crashed run of the study is marked failed (never `running` for ever)."""

from __future__ import annotations

import contextlib

from dltool.config import read_yaml
from dltool.errors import UsageError
from dltool.files import DISK_FULL
from dltool.store.items import read_listing
from dltool.store.run import RUN_FILES, Run, shown_status
from dltool.store.study import ENDED, StudyFolder
from dltool.study.sweep_plan import config_hash
from dltool.train.resume import give_up

ENDED_RUNS = ("completed", "diverged", "pruned")  # a run in one of these is never trained again


def runs_by_config(study: StudyFolder) -> dict[str, list[Run]]:
    """The study's member runs (those whose status.json names it, or that study.json lists) by their config's
    hash; a run whose config.yaml cannot be read is left out (it starts afresh)."""
    found: dict[str, list[Run]] = {}
    for run in read_listing(study.runs_root).members.get(study.id, []):
        with contextlib.suppress(UsageError):
            found.setdefault(config_hash(read_yaml(run.path(RUN_FILES.config))), []).append(run)
    return found


def ended_for_good(study: StudyFolder, entry) -> bool:
    """Whether a member's ending is final: a failure from a full disk is not (its run has a checkpoint, or
    starts afresh), so the same command continues it once there is space."""
    if entry.status not in ENDED:
        return False
    run = study.member_run(entry) if entry.status == "failed" else None
    return run is None or not str(run.status().get("error", "")).startswith(DISK_FULL)


def kept_run(runs: list[Run]) -> Run | None:
    """Of one member's runs, the one to keep: one that ended, else the newest to continue from its
    checkpoint (interrupted, failed or crashed), else None (the member starts afresh)."""
    ended = [run for run in runs if run.status().get("status") in ENDED_RUNS]
    if ended:
        return ended[0]
    resumable = [
        run
        for run in runs
        if run.path(RUN_FILES.checkpoint).is_file()
        and shown_status(run.status()) in ("interrupted", "failed", "crashed")
    ]
    return max(resumable, key=lambda run: run.id) if resumable else None


def give_up_all_but(runs: dict[str, list[Run]], kept: set[str]) -> None:
    """Every crashed run of the study but the kept ones is marked failed (its member trains elsewhere)."""
    for member_runs in runs.values():
        for run in member_runs:
            if run.id not in kept:
                give_up(run)
