"""A study whose study.json was lost or damaged is rebuilt by the command that made it: its member runs name
it in their status.json, and their configs' hashes say which plan they belong to. The same sweep command
finds such a study (no readable sweep of its plan, a damaged one whose runs are members of the plan), keeps
the damaged file beside it, and writes study.json anew from the plan; the members that ended are then
recognised from their runs (dltool.study.reconcile), so nothing finished is trained again."""

from __future__ import annotations

import contextlib
import time

from dltool.config import read_yaml
from dltool.errors import UsageError
from dltool.store.items import Listing
from dltool.store.run import RUN_FILES
from dltool.store.study import StudyFolder, StudyHeader, StudyRecord, record_path
from dltool.study.sweep_plan import config_hash


def damaged_study_of(listing: Listing, kind: str, keys: set[str]) -> StudyFolder | None:
    """The newest damaged study of `kind` (or of a kind its file no longer says) whose member runs include
    a member of the plan whose config hashes are `keys`."""
    for study in listing.studies:
        if not study.record.damage or study.kind not in (kind, "study") or f"-{kind}-" not in study.id:
            continue
        for run in listing.members.get(study.id, []):
            with contextlib.suppress(UsageError):
                if config_hash(read_yaml(run.path(RUN_FILES.config))) in keys:
                    return study
    return None


def rebuilt(study: StudyFolder, header: StudyHeader, members: list) -> tuple[StudyFolder, str]:
    """`study` with a new study.json from its plan (header and members, all pending), the damaged file kept
    as study.json.damaged-TIME; what the command says of it."""
    path, why = record_path(study.folder), study.record.damage
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    if path.exists():
        path.rename(kept)
    fresh = StudyFolder(study.folder, StudyRecord(study.id, "running", header, list(members)))
    fresh.write_record()
    where = f"; the damaged file kept as {kept.name}" if kept.exists() else ""
    return fresh, f"rebuilt {study.id}'s study.json from its plan and its member runs ({why}){where}"
