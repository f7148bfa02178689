"""`--resume ID` of a sweep or a tuning study: the study it names, of the kind the command runs."""

from __future__ import annotations

from pathlib import Path

from dltool.errors import UsageError
from dltool.store.items import resolve_item
from dltool.store.study import StudyFolder
from dltool.store.study_damage import StudyDamaged
from dltool.study.kinds.base import StudyKind


def study_to_resume(runs_dir: Path | None, given: str, kind: type[StudyKind]) -> StudyFolder:
    """The study of `kind` that `--resume GIVEN` names; not one of another kind or a run, and not one whose
    process is still running."""
    item = resolve_item(runs_dir, given)
    if isinstance(item, StudyFolder) and item.record.damage:
        raise StudyDamaged(item.id, item.record.damage)
    if not isinstance(item, StudyFolder) or item.kind != kind.name:
        what = item.noun if isinstance(item, StudyFolder) else "run"
        raise UsageError(
            f"--resume '{given}': '{item.id}' is a {what}, not a {kind.noun}; give a {kind.name} id (dltool runs)"
        )
    if item.record.shown_status == "running":
        raise UsageError(f"{item.noun} '{item.id}' is running (pid {item.record.header.pid}); stop it first")
    return item
