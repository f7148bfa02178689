"""What a runs folder holds, as `dltool runs`, `show` and `plot` see it: studies (comparisons, sweeps,
tuning studies) and runs, each member run under its study; an id, unique prefix or 'latest' resolved to either.

A member names its study in status.json ("study"); for runs made before that field, membership comes
from the run ids their study.json lists. Every file is read once per listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dltool.errors import UsageError
from dltool.store.ids import check_id, newest_first, pick
from dltool.store.run import Run, RunState, RunStore, default_runs_dir
from dltool.store.study import StudyFolder, is_study, record_path
from dltool.store.study_damage import open_study

Item = Run | StudyFolder  # what an id names: a run, or a study


@dataclass(frozen=True)
class Listing:
    """A runs folder read once: every run with its state, every readable study, and who belongs to whom."""

    root: Path
    runs: list[Run]  # every run, members too, newest first
    states: dict[str, RunState]  # by run id
    studies: list[StudyFolder]  # newest first
    members: dict[str, list[Run]]  # study id -> its member runs, newest first
    parents: dict[str, str]  # a comparison's tuning study (compare --tune) -> the comparison's id

    def created(self, item: Item) -> float | None:
        if isinstance(item, StudyFolder):
            return item.record.header.created
        return self.states[item.id].status.get("created")

    def newest_first(self, items: list[Item]) -> list[Item]:
        return sorted(items, key=lambda item: newest_first(item.id, self.created(item)), reverse=True)

    def top_level(self) -> list[Item]:
        """Studies and the runs that belong to none, newest first: what `dltool runs` lists and 'latest' picks.
        A comparison's tuning studies belong to it, as its member runs do."""
        in_studies = {run.id for runs in self.members.values() for run in runs}
        studies = [study for study in self.studies if study.id not in self.parents]
        return self.newest_first([*studies, *(run for run in self.runs if run.id not in in_studies)])

    def tuning_studies(self, study: StudyFolder) -> list[StudyFolder]:
        """The tuning studies a comparison ran first (compare --tune), newest first."""
        return [tuning for tuning in self.studies if self.parents.get(tuning.id) == study.id]

    def everything(self) -> list[Item]:
        """Every study and every run, members too: what ids and prefixes are matched against."""
        return self.newest_first([*self.studies, *self.runs])


def read_listing(root: Path) -> Listing:
    store = RunStore(root)
    listed = store.states()
    studies = [open_study(path) for path in store.folders() if is_study(path)]  # a damaged one too, as such
    studies = [study for study in studies if study is not None]
    studies.sort(key=lambda study: newest_first(study.id, study.record.header.created), reverse=True)
    runs, states = [run for run, _ in listed], {run.id: state for run, state in listed}
    return Listing(store.root, runs, states, studies, group_members(runs, states, studies), parent_studies(studies))


def parent_studies(studies: list[StudyFolder]) -> dict[str, str]:
    """Each tuning study a comparison lists in its plan (compare --tune) -> that comparison's id. A tuning
    study whose comparison never started (stopped while tuning) has none: it is listed on its own. A study
    that lists tuning studies of its own is never folded under another (an edited plan naming itself, or
    two comparisons naming each other, would hide a study from the list)."""
    ids = {study.id for study in studies}
    listed = {study.id: [entry["study"] for entry in tuning_entries(study) if entry.get("study") in ids]
              for study in studies}  # fmt: skip
    parents = {study_id for study_id, children in listed.items() if children}
    return {child: parent for parent, children in listed.items() for child in children if child not in parents}


def tuning_entries(study: StudyFolder) -> list[dict]:
    return [entry for entry in study.record.header.plan.get("tuning") or [] if isinstance(entry, dict)]


def group_members(runs: list[Run], states: dict[str, RunState], studies: list[StudyFolder]) -> dict[str, list[Run]]:
    """Each study's member runs: those whose status.json names it, or that its study.json lists.
    A run whose study is gone (deleted, damaged) belongs to none, so it is still listed."""
    listed = {run_id: study.id for study in studies for run_id in study.member_ids()}
    members: dict[str, list[Run]] = {study.id: [] for study in studies}
    for run in runs:
        named = states[run.id].status.get("study")
        study = named if isinstance(named, str) and named in members else listed.get(run.id)
        if study is not None:
            members[study].append(run)
    return members


def resolve_item(runs_dir: Path | None, item_id: str) -> Item:
    """The run or study an id names: its id, a unique prefix of one, or 'latest' (the newest study or
    run that belongs to no study; never a member). Unknown and ambiguous ids get a helpful error."""
    return resolve_items(runs_dir, [item_id])[0]


def resolve_items(runs_dir: Path | None, item_ids: list[str]) -> list[Item]:
    """As resolve_item, for several ids: the runs folder is read once."""
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    for item_id in item_ids:
        check_id(item_id)  # before the folder is read
    listing = read_listing(root)
    return [find_item(listing, item_id) for item_id in item_ids]


def find_item(listing: Listing, item_id: str) -> Item:
    items = listing.top_level() if item_id == "latest" else listing.everything()
    record = record_path(listing.root / item_id)
    if record.is_file() and not any(item.id == item_id for item in items):
        raise UsageError(f"'{item_id}' is a study whose {record.name} cannot be read (damaged, or not dltool's)")
    return pick(items, item_id, listing.root, noun="run or study")


def resolve_run(runs_dir: Path | None, run_id: str, command: str) -> Run:
    """As resolve_item, for a command that takes runs only: a study is refused, saying what to give instead."""
    item = resolve_item(runs_dir, run_id)
    if isinstance(item, Run):
        return item
    raise UsageError(
        f"'{item.id}' is a {item.noun}, not a run; '{command}' takes a run id "
        f"('dltool show {item.id}' lists its member runs)"
    )
