"""The sweep kind (`dltool sweep`): a grid's points over seeds, ranked by the metric; pictures of the
metric against each key and every point's curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.plots.sweep import draw_sweep_figures
from dltool.results.points import PointResults
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.kinds.base import register
from dltool.study.kinds.points import PointsKind, PointSpec


class SweepSpec(PointSpec):
    base: dict[str, Any]  # the config with the --set options, before the grid
    grid: dict[str, list[Any]]  # key -> values, in the order given
    key: str  # the plan's identity: the same command finds this sweep again


@register
class SweepKind(PointsKind):
    name = "sweep"
    noun = "sweep"
    spec_type = SweepSpec

    def described_keys(self, spec: SweepSpec) -> dict[str, Any]:
        return spec.grid

    def shape(self, study: StudyFolder, results: PointResults) -> str:
        return f"{len(results.groups)} points × {study.record.header.seeds} seed(s)"

    def notes(self, spec: SweepSpec, results: PointResults | None) -> list[str]:
        return [f"best: {results.winner}"] if results is not None and results.winner else []

    def figures(self, study: StudyFolder, spec: SweepSpec, results: PointResults, fork_ok: bool) -> list[Path]:
        return draw_sweep_figures(study.path(STUDY_FILES.plots), spec.grid, study.record.header.title, results)
