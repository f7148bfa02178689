"""The profile kind (compare-optimizers on several problems): each problem's comparison is a study of
its own; across them, each optimizer's rank per problem and mean rank, and the Dolan–Moré performance
profile. An optimizer's measure on a problem is the mean final loss of its best ranked contender there
(scratch or torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.plots.profile import draw_profile
from dltool.results.comparison import ComparisonResults
from dltool.results.table import ResultsTable
from dltool.store.study import STUDY_FILES, Headline, StudyFolder
from dltool.study.kinds.base import Spec, StudyKind, register

Measures = dict[str, dict[str, float]]  # problem -> optimizer -> measure


class ProfileSpec(Spec):
    comparisons: dict[str, str]  # problem -> its comparison's id
    measures: Measures  # what the ranks and the profile are computed from


@dataclass(frozen=True)
class RankRow:
    optimizer: str
    ranks: dict[str, int]  # problem -> its rank there
    mean_rank: float


def measures_of(results: ComparisonResults) -> dict[str, float]:
    """optimizer -> the mean final loss of its best ranked contender (missing: none ranked)."""
    best: dict[str, float] = {}
    for group in results.groups:
        standing = results.standing(group)
        if standing is not None and standing.finished and math.isfinite(standing.mean):
            optimizer = group.first.optimizer
            best[optimizer] = min(best.get(optimizer, math.inf), standing.mean)
    return best


def rank_rows(table: Measures) -> tuple[RankRow, ...]:
    """Per optimizer, its rank among the optimizers on each problem (by measure) and the mean rank; the
    unranked share the last place. Sorted by mean rank."""
    optimizers = sorted({name for row in table.values() for name in row})
    ranks: dict[str, dict[str, int]] = {name: {} for name in optimizers}
    for problem, row in table.items():
        ordered = sorted(row, key=row.get)
        for name in optimizers:
            ranks[name][problem] = ordered.index(name) + 1 if name in row else len(optimizers)
    rows = [RankRow(name, ranks[name], sum(ranks[name].values()) / len(table)) for name in optimizers]
    return tuple(sorted(rows, key=lambda row: row.mean_rank))


@register
class ProfileKind(StudyKind):
    name = "profile"
    noun = "comparison across problems"
    spec_type = ProfileSpec

    def judge(self, study: StudyFolder, spec: ProfileSpec) -> tuple[RankRow, ...]:
        return rank_rows(spec.measures)

    def tables(self, study: StudyFolder, spec: ProfileSpec, rows: tuple[RankRow, ...]) -> list[ResultsTable]:
        problems = list(spec.measures)
        intro = (
            "Rank of each optimizer on each problem by the mean final loss of its best contender (scratch or "
            "torch; the problem's own comparison has the intervals and ties), and the mean rank, best first."
        )
        ranks = [(row.optimizer, *(str(row.ranks[p]) for p in problems), f"{row.mean_rank:.2f}") for row in rows]
        title = f"optimizers across {', '.join(problems)}"
        rank_table = ResultsTable(title, ("optimizer", *problems, "mean rank"), tuple(ranks), intro=(intro,))
        values = [[spec.measures[p].get(row.optimizer) for p in problems] for row in rows]
        cells = [(row.optimizer, *(f"{v:.6g}" if v is not None else "-" for v in vs)) for row, vs in zip(rows, values)]
        notes = (
            "Performance profile (plots/performance_profile.png, Dolan and Moré 2002): for each factor tau, the "
            "fraction of problems on which an optimizer's measure is within tau times the best optimizer's.",
            "Comparisons: " + "; ".join(f"{problem}: {ident}" for problem, ident in spec.comparisons.items()),
        )
        measures = ResultsTable("Measures (mean final loss)", ("optimizer", *problems), tuple(cells), notes=notes)
        return [rank_table, measures]

    def stored(self, spec: ProfileSpec, rows: tuple[RankRow, ...]) -> tuple[str, Headline, dict]:
        best = rows[0].optimizer if rows else None
        ranks = [{"optimizer": row.optimizer, "ranks": row.ranks, "mean_rank": row.mean_rank} for row in rows]
        return "rank across problems", Headline(best), {"ranks": ranks}

    def member_rows(self, rows: tuple[RankRow, ...]) -> list[dict[str, Any]]:
        return [{"optimizer": row.optimizer, **row.ranks, "mean rank": row.mean_rank} for row in rows]

    def figures(self, study: StudyFolder, spec: ProfileSpec, rows: Any, fork_ok: bool) -> list[Path]:
        return [draw_profile(study.path(STUDY_FILES.plots), spec.measures)] if spec.measures else []

    def plan_lines(self, study: StudyFolder, spec: ProfileSpec) -> list[str]:
        return [f"comparison of {problem}: {ident}" for problem, ident in spec.comparisons.items()]

    def failed(self, rows: Any) -> bool:
        return False  # each problem's comparison has its own exit code: the command returns the worst
