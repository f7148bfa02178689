"""A comparison folder: the names of its files, their writers and the typed reader of comparison.json.

comparison.json is written once per phase, each phase by one method: the plan when the comparison
starts (`ComparisonFolder.start`), each member's run id and status as it finishes (`member_finished`,
so a crash loses nothing), the results at the end (`finish`). Members are ordinary runs beside the
comparison folder, in the same runs folder.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from dltool.store.files import atomic_write_json, atomic_write_text, read_json
from dltool.store.process import pid_alive
from dltool.store.run import Run, RunStore


@dataclass(frozen=True)
class StudyFiles:
    """The names of a comparison folder's files: the only place they are written down."""

    record: str = "comparison.json"  # the plan, the members' runs and statuses, then the results
    table: str = "comparison.csv"  # one row per member run
    verdict: str = "comparison.md"  # the verdict table, for people
    plots: str = "plots"


STUDY_FILES = StudyFiles()
ENDED = ("completed", "failed", "diverged")  # a member's statuses that are final


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


@dataclass(frozen=True)
class ComparisonHeader:
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


@dataclass(frozen=True)
class ComparisonEnd:
    """What the end of a comparison adds: its timing, the target loss, the gaps and the tables' rows."""

    ended: str
    wall_time_s: float
    target_loss: float | None
    target_text: str
    impl_gaps: dict[str, float]
    groups: list[dict[str, Any]]  # one row per group: winner, status, seeds, (mean, std) per statistic
    results: list[dict[str, Any]]  # one row per member, as in comparison.csv


@dataclass
class ComparisonRecord:
    """comparison.json, typed."""

    id: str
    status: str  # running, then completed or interrupted
    header: ComparisonHeader
    members: list[MemberEntry]
    end: ComparisonEnd | None = None  # None until the comparison has finished

    def to_json(self) -> dict[str, Any]:
        end = asdict(self.end) if self.end else {}
        tables = {key: end.pop(key) for key in ("groups", "results") if key in end}
        members = [asdict(member) for member in self.members]
        return {"id": self.id, "status": self.status, **asdict(self.header), **end, "members": members, **tables}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComparisonRecord:
        """The record in comparison.json's content, each part validated against its dataclass's types;
        a pydantic ValidationError where the content is not one dltool wrote."""

        def pick(kind: type) -> dict[str, Any]:
            return {field.name: data[field.name] for field in fields(kind) if field.name in data}

        end = adapter(ComparisonEnd).validate_python(pick(ComparisonEnd)) if "ended" in data else None
        members = adapter(list[MemberEntry]).validate_python(data.get("members"))
        header = adapter(ComparisonHeader).validate_python(pick(ComparisonHeader))
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


class ComparisonFolder:
    """runs/<comparison-id>/ and its record; the member runs are its siblings."""

    kind = "compare"  # what `dltool runs` lists it as (a study's kind)
    noun = "comparison"  # what messages call it

    def __init__(self, folder: Path, record: ComparisonRecord) -> None:
        self.folder = folder
        self.record = record

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def runs_root(self) -> Path:
        """The runs folder, where the member runs are."""
        return self.folder.parent

    def path(self, name: str) -> Path:
        return self.folder / name

    @classmethod
    def start(cls, runs_dir: Path | None, header: ComparisonHeader, members: list[MemberEntry]) -> ComparisonFolder:
        """A new comparison folder, with the plan in comparison.json: every member pending."""
        folder = RunStore(runs_dir).create("compare", header.problem).folder
        comparison = cls(folder, ComparisonRecord(folder.name, "running", header, list(members)))
        comparison._write_record()
        return comparison

    @classmethod
    def open(cls, folder: Path) -> ComparisonFolder | None:
        """The comparison in `folder` as its comparison.json says; None where that is missing or damaged."""
        from pydantic import ValidationError

        data = read_json(Path(folder) / STUDY_FILES.record)
        try:
            return cls(Path(folder), ComparisonRecord.from_json(data)) if data else None
        except ValidationError:
            return None

    def member_finished(self, index: int, run_id: str | None, status: str) -> None:
        self.record.members[index] = replace(self.record.members[index], run_id=run_id, status=status)
        self._write_record()

    def finish(self, status: str, end: ComparisonEnd) -> None:
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
        """comparison.csv: one row per member; a missing value is an empty cell."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: ("" if value is None else value) for key, value in row.items()} for row in rows)
        atomic_write_text(self.path(STUDY_FILES.table), buffer.getvalue())

    def write_verdict(self, text: str) -> None:
        atomic_write_text(self.path(STUDY_FILES.verdict), text)

    def _write_record(self) -> None:
        atomic_write_json(self.path(STUDY_FILES.record), self.record.to_json())
