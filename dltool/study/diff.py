"""`dltool diff A B`: what differs between two runs (config keys, final metrics) or two studies (header
fields, each group's results). The logic only: the command line prints what this returns."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dltool.errors import UsageError
from dltool.results.groups import Group, group_results
from dltool.results.members import load_results
from dltool.store.items import Item, resolve_items
from dltool.store.run import RUN_FILES, Run, RunSnapshot
from dltool.store.study import StudyFolder
from dltool.store.study_damage import check_sound, reading
from dltool.text import flatten

# summary.json fields shown after its `final` metrics, in this order
SUMMARY_FIELDS = ("steps", "epochs", "train_time_s", "examples_per_s")
# A group's statistics (means over its seeds). Not time to target: each study sets its own target loss.
GROUP_STATS = ("final_loss", "best_loss", "final_acc", "wall_time_s", "examples_per_s")
# Header fields that say when and where a study ran, not what it is: they always differ.
BOOKKEEPING = ("started", "created", "pid", "pid_start")


@dataclass(frozen=True)
class KeyDiff:
    """A dotted key whose values differ; `only` names the side ('a' or 'b') that has the key at all."""

    key: str
    a: Any
    b: Any
    only: str | None = None


@dataclass(frozen=True)
class MetricRow:
    """One metric side by side; `group` is the study group it belongs to (None for runs)."""

    name: str
    a: Any
    b: Any
    group: str | None = None

    @property
    def delta(self) -> float | int | None:
        """B - A where both are numbers (true/false are not)."""
        if is_number(self.a) and is_number(self.b):
            return self.b - self.a
        return None


@dataclass(frozen=True)
class Diff:
    kind: str  # "run" or "study"
    a_id: str
    b_id: str
    config: list[KeyDiff]
    metrics: list[MetricRow]

    def to_json(self) -> dict[str, Any]:
        metrics = [{**asdict(row), "delta": row.delta} for row in self.metrics]
        if self.kind == "run":
            metrics = [{k: v for k, v in row.items() if k != "group"} for row in metrics]
        config = [{k: v for k, v in asdict(key).items() if k != "only" or v} for key in self.config]
        return {"kind": self.kind, "a": self.a_id, "b": self.b_id, "config": config, "metrics": metrics}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_keys(a: dict[str, Any], b: dict[str, Any]) -> list[KeyDiff]:
    """The keys whose values differ, A's order first; 1 and 1.0 and true are told apart (as JSON is)."""
    found = []
    for key in dict.fromkeys([*a, *b]):
        if key not in b:
            found.append(KeyDiff(key, a[key], None, only="a"))
        elif key not in a:
            found.append(KeyDiff(key, None, b[key], only="b"))
        elif json.dumps(a[key], sort_keys=True) != json.dumps(b[key], sort_keys=True):
            found.append(KeyDiff(key, a[key], b[key]))
    return found


def side_by_side(a: dict[str, Any], b: dict[str, Any], group: str | None = None) -> list[MetricRow]:
    """Every metric either side has, A's order first; one that neither side has a value for is left out."""
    names = dict.fromkeys([*a, *b])
    return [
        MetricRow(name, a.get(name), b.get(name), group) for name in names if (a.get(name), b.get(name)) != (None, None)
    ]


def readable_snapshot(run: Run) -> RunSnapshot:
    """The run's files, read once; a damaged config.yaml or summary.json is an error that names the file."""
    snapshot = run.snapshot()
    for name in (RUN_FILES.config, RUN_FILES.summary):
        reason = snapshot.damage_of(name)
        if reason:
            raise UsageError(f"run '{run.id}': {reason}; cannot diff it ('dltool show {run.id}' shows what is left)")
    return snapshot


def run_metrics(snapshot: RunSnapshot) -> dict[str, Any]:
    """summary.json's final metrics as final.<name>, its counts and timings, and the status a user sees."""
    summary = snapshot.summary
    metrics: dict[str, Any] = {f"final.{name}": value for name, value in (summary.get("final") or {}).items()}
    metrics.update({name: summary.get(name) for name in SUMMARY_FIELDS})
    metrics["status"] = snapshot.shown_status
    return metrics


def diff_runs(a: Run, b: Run) -> Diff:
    first, second = readable_snapshot(a), readable_snapshot(b)
    config = compare_keys(flatten(first.config.to_dict()), flatten(second.config.to_dict()))
    return Diff("run", a.id, b.id, config, side_by_side(run_metrics(first), run_metrics(second)))


def study_header(study: StudyFolder) -> dict[str, Any]:
    header = {k: v for k, v in asdict(study.record.header).items() if k not in BOOKKEEPING}
    return {**header, "status": study.record.status}


def group_metrics(group: Group | None) -> dict[str, Any]:
    """A group's mean statistics over its seeds, how many members it has, and its status."""
    if group is None:
        return {}
    means = {name: (group.stats.get(name) or (None,))[0] for name in GROUP_STATS}
    return {**means, "members": len(group.results), "status": group.status}


def study_groups(study: StudyFolder) -> dict[str, Group]:
    """The study's groups, computed from its members' stored files as its own tables are."""
    return {group.name: group for group in group_results(load_results(study))}


def diff_studies(a: StudyFolder, b: StudyFolder) -> Diff:
    for study in (a, b):
        check_sound(study)
    with reading(a.id, "members' results"), reading(b.id, "members' results"):
        first, second = study_groups(a), study_groups(b)
    rows = []
    for name in dict.fromkeys([*first, *second]):
        rows += side_by_side(group_metrics(first.get(name)), group_metrics(second.get(name)), group=name)
    return Diff("study", a.id, b.id, compare_keys(study_header(a), study_header(b)), rows)


def kind_of(item: Item) -> str:
    return "study" if isinstance(item, StudyFolder) else "run"


def diff_items(runs_dir: Path | None, a_id: str, b_id: str) -> Diff:
    """Two runs or two studies by id, unique prefix or 'latest'; a run against a study is a usage error."""
    a, b = resolve_items(runs_dir, [a_id, b_id])  # the runs folder read once
    if kind_of(a) != kind_of(b):
        raise UsageError(
            f"'{a.id}' is a {kind_of(a)} and '{b.id}' is a {kind_of(b)}; diff compares two runs or two studies"
        )
    return diff_studies(a, b) if isinstance(a, StudyFolder) else diff_runs(a, b)
