"""What a study kind is: its typed plan (as study.json keeps it) and the pure functions that turn its
members' stored files into results, and results into what every surface shows. The lifecycle
(dltool.study.lifecycle) and the commands that browse studies ask a study's kind (dltool.study.kinds);
none asks which kind it is."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from dltool.results.table import ResultsTable
from dltool.store.study import STUDY_FILES, Headline, StudyFolder
from dltool.store.study_damage import StudyDamaged, validation_text


class Spec(BaseModel):
    """A kind's plan as study.json keeps it: what its results are computed against."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class StudyKind(ABC):
    name: ClassVar[str]  # what study.json and `dltool runs` call it
    noun: ClassVar[str]  # what messages call it
    spec_type: ClassVar[type[Spec]]

    def spec(self, study: StudyFolder) -> Any:
        """The study's plan, typed; a plan that is not as dltool wrote it is StudyDamaged, naming the field."""
        try:
            return self.spec_type.model_validate(study.record.header.plan)
        except ValidationError as exc:
            raise StudyDamaged(study.id, f"{STUDY_FILES.record}: plan.{validation_text(exc)}") from None

    @abstractmethod
    def judge(self, study: StudyFolder, spec: Any) -> Any:
        """The results from the members' stored files as they are now, as one frozen value."""

    @abstractmethod
    def tables(self, study: StudyFolder, spec: Any, results: Any) -> list[ResultsTable]:
        """The tables the terminal, results.md and report.html show (the first is the main one)."""

    @abstractmethod
    def stored(self, spec: Any, results: Any) -> tuple[str, Headline, dict]:
        """For study.json: what the results are measured against, the headline, the results as data."""

    @abstractmethod
    def member_rows(self, results: Any) -> list[dict]:
        """results.csv: one row per member (or per row of the results, for a kind without members)."""

    @abstractmethod
    def figures(self, study: StudyFolder, spec: Any, results: Any, fork_ok: bool) -> list[Path]:
        """The pictures, drawn into the study's plots/ (none where there is nothing to draw yet)."""

    def plan_lines(self, study: StudyFolder, spec: Any) -> list[str]:
        """What `show` and the report say the study runs, beside its progress."""
        return [f"source: {study.record.header.source}"]

    def failed(self, results: Any) -> bool:
        """Whether a member failed (the study's exit code is then 1)."""
        return any(result.status == "failed" for result in getattr(results, "results", ()))


STUDY_KINDS: dict[str, StudyKind] = {}


def register(kind: type[StudyKind]) -> type[StudyKind]:
    if kind.name in STUDY_KINDS:
        raise ValueError(f"study kind '{kind.name}' is registered twice")
    STUDY_KINDS[kind.name] = kind()
    return kind
