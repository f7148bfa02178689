"""A study folder (of any kind: dltool.study.kinds): the names of its files, their writers and
the typed reader of study.json.

study.json is written once per phase, each phase by one method: the plan when the study starts
(`StudyFolder.start`), each member as a tuning study adds it (`add_member`), each member's run id and
status as it finishes (`member_finished`, so a crash loses nothing), the results at the end (`finish`).
Members are ordinary runs in the study's members/ folder (earlier versions kept them beside it: still read).
Every kind has the same files; a kind's own plan (a sweep's grid, a tuning study's space) is in `plan`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dltool.files import atomic_write_json, atomic_write_text, read_json
from dltool.store.layout import STUDY_FILES, StudyFiles  # noqa: F401 - re-exported: its files' names
from dltool.store.process import pid_alive
from dltool.store.run import Run, RunStore, this_process
from dltool.text import csv_text

ENDED = ("completed", "failed", "diverged", "pruned")  # a member's statuses that are final


@dataclass(frozen=True)
class MemberEntry:
    """A member as comparison.json lists it: what the plan made of it, then its run id and status."""

    group: str  # what the tables and plots aggregate over seeds: "adam lr=0.01 · torch"
    variant: str  # the group without the impl: "adam lr=0.01"
    note: str  # the variant's note ("noisy gradient, exponential lr"), or ""
    optimizer: str
    impl: str
    seed: int
    hyper: dict[str, Any]
    lr: float
    batch_size: int
    run_id: str | None = None  # None until it has started
    status: str = "pending"
    point: dict[str, Any] = field(default_factory=dict)  # a sweep's grid values or a trial's parameters
    key: str | None = None  # a sweep member's identity: the hash of its resolved config
    trial: int | None = None  # a tuning study's trial number
    error: str | None = None  # why it failed
    engine: str | None = None  # how it trained: "population" (with others, one computation) or "process"


@dataclass(frozen=True)
class StudyHeader:
    """What a study is, fixed when it starts; `plan` is its kind's own plan (dltool.study.kinds types it)."""

    problem: str  # what the study id names: the problem, or the config's label
    title: str
    source: str  # the CONFIG file or the built-in problem
    started: str
    jobs: int
    pid: int
    seeds: int
    created: float | None = None  # time.time() at the start: orders items of the same second (None before)
    pid_start: str | None = None  # when the process `pid` started: a reused pid is not this study's
    kind: str = "compare"  # a name in dltool.study.kinds.STUDY_KINDS
    plan: dict[str, Any] = field(default_factory=dict)
    noun: str | None = None  # what messages call it ("comparison"), from its kind; None: the kind's name
    cluster: dict[str, Any] | None = None  # the Ray cluster its members ran on (dltool.study.cluster), None: here


@dataclass(frozen=True)
class Headline:
    """What `dltool runs` shows of an ended study: its best, or how many share the best place."""

    best: str | None = None  # the best (a comparison's best contender, a sweep's best point)
    tied: int = 0  # contenders equivalent to it (before labels: tied for best where no single one won)
    loss: float | None = None  # the best's mean final loss and accuracy over seeds
    acc: float | None = None


@dataclass(frozen=True)
class StudyEnd:
    """What the end of a study adds: its timing, what its results are measured against, and the results."""

    ended: str
    wall_time_s: float
    against: str  # "target loss 0.27 (best final + 10%)", "ranked by final loss on valid"
    headline: Headline
    results: dict[str, Any]  # the kind's results (groups, verdict, ranks), as its StudyKind stores them
    member_results: list[dict[str, Any]]  # one row per member, as in results.csv


# the header fields and end of comparisons written before study kinds had plans of their own
LEGACY_PLAN_KEYS = ("objective", "lr_scan", "batch_scan", "given_target")
LEGACY_RESULT_KEYS = ("target_loss", "impl_gaps", "groups", "verdict")


def upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """study.json (or comparison.json) as dltool writes it now: an older file's compare fields moved into
    its plan, its end's tables into results and its best into the headline."""
    data = dict(data)
    if any(key in data for key in LEGACY_PLAN_KEYS):  # only comparisons had these
        data.setdefault("noun", "comparison")
        data["plan"] = {**{key: data.pop(key) for key in LEGACY_PLAN_KEYS if key in data}, **data.get("plan", {})}
    if "ended" in data and "against" not in data:
        groups = data.get("groups") or []
        winner = next((group for group in groups if group.get("winner")), None)
        tied = len({g.get("contender") or g.get("group") for g in groups if g.get("tied_for_best")})
        best = winner or next((g for g in groups if g.get("tied_for_best")), {})
        mean = {key: (best.get(key) or [None])[0] for key in ("final_loss", "final_acc")}
        data["headline"] = Headline(winner and winner.get("group"), 0 if winner else tied, *mean.values())
        data["against"], data["member_results"] = data.pop("target_text", ""), data.pop("results", [])
        data["results"] = {key: data.pop(key, None) for key in LEGACY_RESULT_KEYS}
    return data


@dataclass
class StudyRecord:
    """comparison.json, typed."""

    id: str
    status: str  # running, then completed or interrupted
    header: StudyHeader
    members: list[MemberEntry]
    end: StudyEnd | None = None  # None until the comparison has finished
    damage: str | None = None  # why study.json could not be read (dltool.store.study_damage); never written

    def to_json(self) -> dict[str, Any]:
        end = asdict(self.end) if self.end else {}
        tables = {key: end.pop(key) for key in ("results", "member_results") if key in end}
        members = [asdict(member) for member in self.members]
        return {"id": self.id, "status": self.status, **asdict(self.header), **end, "members": members, **tables}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudyRecord:
        """The record in study.json's content (an older layout upgraded first), each part validated against
        its dataclass's types; a pydantic ValidationError where the content is not one dltool wrote."""
        data = upgraded(data) if isinstance(data, dict) else data

        def pick(kind: type) -> dict[str, Any]:
            return {field.name: data[field.name] for field in fields(kind) if field.name in data}

        end = adapter(StudyEnd).validate_python(pick(StudyEnd)) if "ended" in data else None
        members = adapter(list[MemberEntry]).validate_python(data.get("members"))
        header = adapter(StudyHeader).validate_python(pick(StudyHeader))
        ident, status = adapter(tuple[str, str]).validate_python((data.get("id"), data.get("status")))
        return cls(ident, status, header, members, end)

    @property
    def shown_status(self) -> str:
        """running, completed or interrupted; `crashed` for a running one whose process is gone (as runs)."""
        running = self.status == "running"
        if self.damage:
            return "damaged"
        return "crashed" if running and not pid_alive(self.header.pid, self.header.pid_start) else self.status

    def progress(self) -> tuple[int, int]:
        """(members that ended, members planned); an interrupted member has not ended."""
        return sum(member.status in ENDED for member in self.members), len(self.members)


@functools.cache
def adapter(kind: Any) -> Any:
    """One pydantic TypeAdapter per type (building one takes milliseconds; `dltool runs` reads every study)."""
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


class StudyFolder:
    """runs/<study-id>/ and its record; its member runs in members/ (beside it, for earlier versions)."""

    def __init__(self, folder: Path, record: StudyRecord) -> None:
        self.folder = folder
        self.record = record
        self.deferred = False  # True: changes wait for one write (dltool.study.populations.written_once)

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def kind(self) -> str:
        """Its kind's name (dltool.study.kinds): what `dltool runs` lists it as."""
        return self.record.header.kind

    @property
    def noun(self) -> str:
        return self.record.header.noun or self.kind

    @property
    def runs_root(self) -> Path:
        """The runs folder the study is in."""
        return self.folder.parent

    @property
    def members_root(self) -> Path:
        """Where its member runs are made: inside it, so a study and its runs move, copy and go together."""
        return self.folder / STUDY_FILES.members

    def run_of(self, run_id: str) -> Run:
        """A member run by id: inside the study, or beside it (the layout of earlier versions)."""
        inside = self.members_root / run_id
        return Run(inside if inside.is_dir() else self.runs_root / run_id)

    def path(self, name: str) -> Path:
        return self.folder / name

    @classmethod
    def start(cls, runs_dir: Path | None, header: StudyHeader, members: list[MemberEntry]) -> StudyFolder:
        """A new study folder, with the plan in study.json: every member pending."""
        folder = RunStore(runs_dir).create(header.kind, header.problem).folder
        comparison = cls(folder, StudyRecord(folder.name, "running", header, list(members)))
        comparison.write_record()
        return comparison

    @classmethod
    def open(cls, folder: Path) -> StudyFolder | None:
        """The study in `folder` as its study.json says; None where that is missing or damaged."""
        from pydantic import ValidationError

        data = read_json(record_path(Path(folder)))
        try:
            return cls(Path(folder), StudyRecord.from_json(data)) if data else None
        except ValidationError:
            return None

    def wall_time_so_far(self) -> float:
        """The wall time of its earlier invocations (an interrupted study recorded its own when it stopped);
        a study that is continued counts on from there."""
        return self.record.end.wall_time_s if self.record.end else 0.0

    def add_member(self, entry: MemberEntry) -> int:
        """A member the plan did not list at the start (a tuning study's next trial); its index."""
        self.record.members.append(entry)
        self.write_record()
        return len(self.record.members) - 1

    def set_status(self, status: str) -> None:
        """running again (a resumed study), before its members run."""
        self.record.status, self.record.header = status, replace(self.record.header, **this_process())
        self.write_record()

    def update_plan(self, **changes: Any) -> None:
        """Keys of the kind's plan known only once it runs (a tuning study's storage, its best trial)."""
        self.record.header = replace(self.record.header, plan={**self.record.header.plan, **changes})
        self.write_record()

    def member_finished(
        self, index: int, run_id: str | None, status: str, error: str | None = None, engine: str | None = None
    ) -> None:
        member = self.record.members[index]
        run_id = run_id or member.run_id
        self.record.members[index] = replace(member, run_id=run_id, status=status, error=error, engine=engine)
        self.write_record()

    def finish(self, status: str, end: StudyEnd) -> None:
        self.record.status, self.record.end = status, end
        self.write_record()

    def member_ids(self) -> set[str]:
        """The run ids comparison.json lists: a member's is written when it has finished."""
        return {member.run_id for member in self.record.members if member.run_id}

    def member_run(self, member: MemberEntry) -> Run | None:
        """The member's run folder, None if it never got one (or it has been deleted)."""
        run = self.run_of(member.run_id) if member.run_id else None
        return run if run is not None and run.folder.is_dir() else None

    def write_member_table(self, rows: list[dict[str, Any]]) -> None:
        """results.csv: one row per member; a missing value is an empty cell."""
        atomic_write_text(self.path(STUDY_FILES.member_table), csv_text(rows))

    def write_results_text(self, text: str) -> None:
        atomic_write_text(self.path(STUDY_FILES.results_text), text)

    def write_record(self) -> None:
        if self.deferred:
            return
        atomic_write_json(self.path(STUDY_FILES.record), self.record.to_json())
        legacy = self.path(STUDY_FILES.legacy_record)
        if legacy.exists():  # a comparison made before study.json, written again: one record, not two
            legacy.unlink()


def record_path(folder: Path) -> Path:
    """The study's record file: study.json, or comparison.json in a comparison made before study kinds."""
    legacy = folder / STUDY_FILES.legacy_record
    return legacy if legacy.is_file() and not (folder / STUDY_FILES.record).is_file() else folder / STUDY_FILES.record


def is_study(folder: Path) -> bool:
    """A study folder: its study.json, or (study.json lost) a study's tables and no run's status.json."""
    if record_path(folder).exists():  # a study.json that is not a file is a damaged study, still a study
        return True
    tables = (STUDY_FILES.member_table, STUDY_FILES.results_text, STUDY_FILES.report)
    return not (folder / "status.json").exists() and any((folder / name).exists() for name in tables)
