"""A study folder (a comparison, a sweep or a tuning study): the names of its files, their writers and
the typed reader of study.json.

study.json is written once per phase, each phase by one method: the plan when the study starts
(`StudyFolder.start`), each member as a tuning study adds it (`add_member`), each member's run id and
status as it finishes (`member_finished`, so a crash loses nothing), the results at the end (`finish`).
Members are ordinary runs beside the study folder, in the same runs folder. Every kind has the same
files; a kind's own plan (a sweep's grid, a tuning study's space) is in the header's `plan`.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dltool.files import atomic_write_json, atomic_write_text, read_json
from dltool.store.process import pid_alive
from dltool.store.run import Run, RunStore, this_process


@dataclass(frozen=True)
class StudyFiles:
    """The names of a study folder's files: the only place they are written down."""

    record: str = "study.json"  # the plan, the members' runs and statuses, then the results
    table: str = "results.csv"  # one row per member run
    verdict: str = "results.md"  # the results table, for people
    plots: str = "plots"
    best_config: str = "best.yaml"  # a tuning study's best config, which `dltool train` runs as it is
    optuna: str = "optuna.db"  # a tuning study's default Optuna storage (SQLite)
    report: str = "report.html"  # the study on one self-contained page (dltool report)
    legacy_record: str = "comparison.json"  # what comparisons made before studies had kinds wrote


STUDY_FILES = StudyFiles()
ENDED = ("completed", "failed", "diverged", "pruned")  # a member's statuses that are final
# what messages call each kind
NOUNS = {"compare": "comparison", "sweep": "sweep", "tune": "tuning study", "profile": "comparison across problems"}


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


@dataclass(frozen=True)
class StudyHeader:
    """What a comparison is, fixed when it starts."""

    problem: str
    title: str
    source: str  # the CONFIG file or the built-in problem
    objective: str | None  # the toy objective, for trajectory plots
    started: str
    jobs: int
    pid: int
    seeds: int
    lr_scan: bool  # several lr scales: the sensitivity plot
    batch_scan: bool  # several batch sizes: loss against examples
    created: float | None = None  # time.time() at the start: orders items of the same second (None before)
    given_target: float | None = None  # --target-loss; None: the best final loss + 10%
    pid_start: str | None = None  # when the process `pid` started: a reused pid is not this comparison's
    kind: str = "compare"  # compare, sweep or tune
    plan: dict[str, Any] = field(default_factory=dict)  # a sweep's or tuning study's own plan (grid, space..)


@dataclass(frozen=True)
class StudyEnd:
    """What the end of a comparison adds: its timing, the target loss, the gaps and the tables' rows."""

    ended: str
    wall_time_s: float
    target_loss: float | None
    target_text: str
    impl_gaps: dict[str, float]
    groups: list[dict[str, Any]]  # one row per group: winner, status, seeds, (mean, std) per statistic
    results: list[dict[str, Any]]  # one row per member, as in results.csv
    verdict: dict[str, Any] | None = None  # a comparison's ruling: the rule, the winner, each optimizer's standing


@dataclass
class StudyRecord:
    """comparison.json, typed."""

    id: str
    status: str  # running, then completed or interrupted
    header: StudyHeader
    members: list[MemberEntry]
    end: StudyEnd | None = None  # None until the comparison has finished

    def to_json(self) -> dict[str, Any]:
        end = asdict(self.end) if self.end else {}
        tables = {key: end.pop(key) for key in ("groups", "results") if key in end}
        members = [asdict(member) for member in self.members]
        return {"id": self.id, "status": self.status, **asdict(self.header), **end, "members": members, **tables}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudyRecord:
        """The record in comparison.json's content, each part validated against its dataclass's types;
        a pydantic ValidationError where the content is not one dltool wrote."""

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
        return "crashed" if running and not pid_alive(self.header.pid, self.header.pid_start) else self.status

    def progress(self) -> tuple[int, int]:
        """(members that ended, members planned); an interrupted member has not ended."""
        return sum(member.status in ENDED for member in self.members), len(self.members)

    def winner(self) -> dict[str, Any] | None:
        """The winning group's row of the results (its name and (mean, std) per statistic); None before the end."""
        groups = self.end.groups if self.end else []
        return next((group for group in groups if group.get("winner")), None)


@functools.cache
def adapter(kind: Any) -> Any:
    """One pydantic TypeAdapter per type (building one takes milliseconds; `dltool runs` reads every study)."""
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


class StudyFolder:
    """runs/<study-id>/ and its record; the member runs are its siblings."""

    def __init__(self, folder: Path, record: StudyRecord) -> None:
        self.folder = folder
        self.record = record

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def kind(self) -> str:
        """What `dltool runs` lists it as: compare, sweep or tune."""
        return self.record.header.kind

    @property
    def noun(self) -> str:
        return NOUNS.get(self.kind, "study")

    @property
    def runs_root(self) -> Path:
        """The runs folder, where the member runs are."""
        return self.folder.parent

    def path(self, name: str) -> Path:
        return self.folder / name

    @classmethod
    def start(cls, runs_dir: Path | None, header: StudyHeader, members: list[MemberEntry]) -> StudyFolder:
        """A new study folder, with the plan in study.json: every member pending."""
        folder = RunStore(runs_dir).create(header.kind, header.problem).folder
        comparison = cls(folder, StudyRecord(folder.name, "running", header, list(members)))
        comparison._write_record()
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
        self._write_record()
        return len(self.record.members) - 1

    def set_status(self, status: str) -> None:
        """running again (a resumed study), before its members run."""
        self.record.status, self.record.header = status, replace(self.record.header, **this_process())
        self._write_record()

    def member_finished(self, index: int, run_id: str | None, status: str, error: str | None = None) -> None:
        member = self.record.members[index]
        self.record.members[index] = replace(member, run_id=run_id or member.run_id, status=status, error=error)
        self._write_record()

    def finish(self, status: str, end: StudyEnd) -> None:
        self.record.status, self.record.end = status, end
        self._write_record()

    def member_ids(self) -> set[str]:
        """The run ids comparison.json lists: a member's is written when it has finished."""
        return {member.run_id for member in self.record.members if member.run_id}

    def member_run(self, member: MemberEntry) -> Run | None:
        """The member's run folder, None if it never got one (or it has been deleted)."""
        run = Run(self.runs_root / member.run_id) if member.run_id else None
        return run if run is not None and run.folder.is_dir() else None

    def write_table(self, rows: list[dict[str, Any]]) -> None:
        """results.csv: one row per member; a missing value is an empty cell."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: ("" if value is None else value) for key, value in row.items()} for row in rows)
        atomic_write_text(self.path(STUDY_FILES.table), buffer.getvalue())

    def write_verdict(self, text: str) -> None:
        atomic_write_text(self.path(STUDY_FILES.verdict), text)

    def _write_record(self) -> None:
        atomic_write_json(self.path(STUDY_FILES.record), self.record.to_json())
        legacy = self.path(STUDY_FILES.legacy_record)
        if legacy.exists():  # a comparison made before study.json, written again: one record, not two
            legacy.unlink()


def record_path(folder: Path) -> Path:
    """The study's record file: study.json, or comparison.json in a comparison made before study kinds."""
    legacy = folder / STUDY_FILES.legacy_record
    return legacy if legacy.is_file() and not (folder / STUDY_FILES.record).is_file() else folder / STUDY_FILES.record


def is_study(folder: Path) -> bool:
    return record_path(folder).is_file()
