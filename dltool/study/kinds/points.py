"""What the kinds whose members are points share (a sweep's grid values, a tuning study's trials): the
results ranked by the study's metric (dltool.results.points), one table row per point, one results.csv
row per member with its point's values first."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from dltool.results.members import load_results
from dltool.results.points import PointResults, judge_points
from dltool.results.table import ResultsTable
from dltool.store.study import Headline, StudyFolder
from dltool.study.kinds.base import Spec, StudyKind
from dltool.study.kinds.compare import format_stat, member_row
from dltool.text import format_value


class PointSpec(Spec):
    metric: str = "loss"  # loss, best_loss or acc (dltool.results.points.METRICS)


class PointsKind(StudyKind):
    def keys(self, spec: Any) -> list[str]:
        """The keys a point sets (a sweep's grid keys, a tuning study's space keys)."""
        return list(self.described_keys(spec))

    @abstractmethod
    def shape(self, study: StudyFolder, results: PointResults) -> str:
        """How the members are laid out, for the table's intro ('3 points × 2 seed(s)')."""

    def notes(self, spec: Any, results: PointResults | None) -> list[str]:
        """Lines under the table (and under the plan in `show`): what was found."""
        return []

    def judge(self, study: StudyFolder, spec: PointSpec) -> PointResults:
        return judge_points(load_results(study), spec.metric)

    def tables(self, study: StudyFolder, spec: PointSpec, results: PointResults) -> list[ResultsTable]:
        keys, seeds = self.keys(spec), study.record.header.seeds
        headings = ("", *keys, results.described, "wall (s)", "status")
        rows, marks = [], []
        fmt = "{:.4f}" if results.metric == "acc" else "{:.6g}"
        for group in results.groups:
            point, won = group.first.point, group.name == results.winner
            cells = ["★" if won else "", *(format_value(point.get(key)) for key in keys)]
            cells += [
                format_stat(results.value(group), fmt, seeds),
                format_stat(group.stats.get("wall_time_s"), "{:.2f}", seeds),
            ]
            rows.append((*cells, group.status))
            marks.append("best" if won else ("bad" if group.failed else None))
        shape = f"{len(results.results)} member runs ({self.shape(study, results)})"
        intro = f"{study.record.status}; {shape}; sorted by {results.described}, best first."
        notes = ["Values are mean ± standard deviation over the seeds."] if seeds > 1 else []
        spread = " (mean ± std over seeds)" if seeds > 1 else ""
        title = f"{study.record.header.title}: sorted by {results.described}{spread}"
        table = ResultsTable(title, headings, tuple(rows), tuple(marks), (intro,), (*notes, *self.notes(spec, results)))
        return [table]

    def stored(self, spec: PointSpec, results: PointResults) -> tuple[str, Headline, dict]:
        best = next((group for group in results.groups if group.name == results.winner), None)
        mean = {key: (best.stats.get(key) or (None,))[0] if best else None for key in ("final_loss", "final_acc")}
        headline = Headline(results.winner, 0, mean["final_loss"], mean["final_acc"])
        groups = [{"point": group.first.point, **point_group_row(results, group)} for group in results.groups]
        return f"ranked by {results.described}", headline, {"metric": results.metric, "groups": groups}

    def member_rows(self, results: PointResults) -> list[dict]:
        return [point_member_row(result) for result in results.results]

    def plan_lines(self, study: StudyFolder, spec: Any) -> list[str]:
        header = study.record.header
        lines = [f"config: {header.source}"]
        lines += [f"  {key}: {values}" for key, values in self.described_keys(spec).items()]
        return lines + self.notes(spec, None)

    @abstractmethod
    def described_keys(self, spec: Any) -> dict[str, Any]:
        """Each key a point sets, with its values (a grid) or distribution (a space)."""


def point_group_row(results: PointResults, group) -> dict[str, Any]:
    stats = {key: (list(value) if value else None) for key, value in group.stats.items()}
    row = {"group": group.name, "winner": group.name == results.winner, "status": group.status}
    return {**row, "seeds": len(group.results), **stats}


def point_member_row(result) -> dict[str, Any]:
    """A member as results.csv has it: its point's values first, then what every study's table has, and
    why it failed."""
    row = {key: format_value(value) for key, value in result.member.point.items()}
    error = result.member.error if result.status == "failed" else None
    return {**row, **member_row(result), "error": error}
