"""What `dltool rm` removes, decided before anything is deleted: a run alone; a study with its member runs
(and a comparison's tuning studies with theirs); never anything running, and never a member alone (its
study would lose it: remove the study). Nothing is deleted when any id is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

from dltool.errors import UsageError
from dltool.store.ids import check_id
from dltool.store.items import Item, Listing, find_item, read_listing
from dltool.store.run import Run, default_runs_dir
from dltool.store.study import StudyFolder


def planned_removal(runs_dir: Path | None, item_ids: list[str]) -> list[Path]:
    """The folders removing `item_ids` takes, each once, studies after their members; a UsageError (nothing
    removed) for an id that cannot go."""
    for item_id in item_ids:
        check_id(item_id)  # before the folder is read
    listing = read_listing(Path(runs_dir) if runs_dir is not None else default_runs_dir())
    folders: dict[Path, None] = {}
    for item_id in item_ids:
        for folder in _folders_of(listing, find_item(listing, item_id)):
            folders[folder] = None
    return list(folders)


def _folders_of(listing: Listing, item: Item) -> list[Path]:
    if isinstance(item, Run):
        owner = next((study for study, runs in listing.members.items() if any(r.id == item.id for r in runs)), None)
        if owner is not None:
            raise UsageError(f"run '{item.id}' is a member of study '{owner}'; remove the study (dltool rm {owner})")
        _not_running(item.id, listing.states[item.id].shown_status if item.id in listing.states else "")
        return [item.folder]
    folders = []
    for child, parent in listing.parents.items():  # a comparison's tuning studies go with it
        if parent == item.id:
            folders += _folders_of(listing, next(s for s in listing.studies if s.id == child))
    return folders + _study_folders(listing, item)


def _study_folders(listing: Listing, study: StudyFolder) -> list[Path]:
    _not_running(study.id, study.record.shown_status)
    members = listing.members.get(study.id, [])
    for run in members:
        _not_running(run.id, listing.states[run.id].shown_status if run.id in listing.states else "")
    return [run.folder for run in members] + [study.folder]


def _not_running(item_id: str, status: str) -> None:
    if status == "running":
        raise UsageError(f"'{item_id}' is running; stop it first (Ctrl-C in its terminal), then remove it")


def remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder)
