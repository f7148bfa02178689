"""The profile kind (compare-optimizers on several problems): each problem's comparison is a study of its
own; across them, each optimizer's rank per problem and its mean rank, and the Dolan–Moré performance
profile, with each problem's verdict table beside them.

- An optimizer's place on a problem is that of its best contender there (scratch or torch). Ranks follow
  the problem's verdict: the best and every contender equivalent to it share rank 1; the others follow in
  the verdict's order. An optimizer not run on a problem has no rank there (it is not ranked last), and
  its mean rank says over how many problems it rests.
- The profile's measure is the steps to the problem's target loss (the mean over seeds of the best
  contender, where every seed reached it; else not reached, infinity). Steps are scale-free where losses
  are not: a loss with a floor far from zero (airfoil's 0.24) makes every ratio ~1, and a negative loss
  (xcos1d's minimum, -6.98) makes ratios meaningless. rho(tau) is the fraction of the problems an
  optimizer ran on where its steps are within tau times the fewest any optimizer needed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dltool.plots.profile import draw_profile
from dltool.results.comparison import ComparisonResults
from dltool.results.table import ResultsTable
from dltool.store.study import STUDY_FILES, Headline, StudyFolder
from dltool.study.kinds.base import Spec, StudyKind, register
from dltool.study.kinds.compare import CompareKind

Table = dict[str, dict[str, Any]]  # problem -> optimizer -> value


class ProfileSpec(Spec):
    comparisons: dict[str, str]  # problem -> its comparison's id
    ranks: dict[str, dict[str, int]] = {}  # problem -> optimizer -> its rank there (equivalent ones share)
    steps: dict[str, dict[str, float | None]] = {}  # problem -> optimizer -> steps to target; None: not reached
    untested: list[str] = []  # problems whose verdict could test nothing (one seed of a noisy problem)


@dataclass(frozen=True)
class RankRow:
    optimizer: str
    ranks: dict[str, int]  # problem -> its rank there; problems it did not run on are absent
    mean_rank: float


def places(results: ComparisonResults) -> tuple[dict[str, int], dict[str, float | None]]:
    """(optimizer -> rank, optimizer -> steps to target) on one problem, from its best contender there."""
    groups = {group.name: group for group in results.groups}
    best: dict[str, Any] = {}
    for standing in results.verdict.standings:  # in rank order: an optimizer's first is its best
        optimizer = groups[standing.groups[0]].first.optimizer
        best.setdefault(optimizer, standing)
    ranks, steps = {}, {}
    for position, (optimizer, standing) in enumerate(best.items(), start=1):
        ranks[optimizer] = 1 if standing.label in ("best", "equivalent") else position
        group = groups[standing.groups[0]]
        reached = standing.finished and group.arrived == len(group.results) and group.stats.get("steps_to_target")
        steps[optimizer] = group.stats["steps_to_target"][0] if reached else None
    return ranks, steps


def tested(results: ComparisonResults) -> bool:
    """Whether a problem's ranks below 1 rest on a test (or on exact values), not on single noisy runs."""
    rule = results.verdict.rule
    return rule.deterministic or rule.seeds > 1


def rank_rows(ranks: Table) -> tuple[RankRow, ...]:
    """Per optimizer, its rank on each problem it ran on and the mean over those; best mean first, and at
    the same mean, the one that rests on more problems."""
    optimizers = sorted({name for row in ranks.values() for name in row})
    rows = []
    for name in optimizers:
        mine = {problem: row[name] for problem, row in ranks.items() if name in row}
        rows.append(RankRow(name, mine, statistics.fmean(mine.values())))
    return tuple(sorted(rows, key=lambda row: (row.mean_rank, -len(row.ranks))))


@register
class ProfileKind(StudyKind):
    name = "profile"
    noun = "comparison across problems"
    spec_type = ProfileSpec

    def judge(self, study: StudyFolder, spec: ProfileSpec) -> tuple[RankRow, ...]:
        return rank_rows(spec.ranks)

    def tables(self, study: StudyFolder, spec: ProfileSpec, rows: tuple[RankRow, ...]) -> list[ResultsTable]:
        return [*problem_tables(study, spec), rank_table(spec, rows), steps_table(spec, rows)]

    def stored(self, spec: ProfileSpec, rows: tuple[RankRow, ...]) -> tuple[str, Headline, dict]:
        best = rows[0].optimizer if rows else None
        ranks = [{"optimizer": row.optimizer, "ranks": row.ranks, "mean_rank": row.mean_rank} for row in rows]
        return "ranks across problems by each problem's verdict", Headline(best), {"ranks": ranks}

    def member_rows(self, rows: tuple[RankRow, ...]) -> list[dict[str, Any]]:
        return [{"optimizer": row.optimizer, **row.ranks, "mean rank": row.mean_rank} for row in rows]

    def figures(self, study: StudyFolder, spec: ProfileSpec, rows: Any, fork_ok: bool) -> list[Path]:
        return [draw_profile(study.path(STUDY_FILES.plots), spec.steps)] if spec.steps else []

    def plan_lines(self, study: StudyFolder, spec: ProfileSpec) -> list[str]:
        return [f"comparison of {problem}: {ident}" for problem, ident in spec.comparisons.items()]

    def failed(self, rows: Any) -> bool:
        return False  # each problem's comparison has its own exit code: the command returns the worst


def problem_tables(study: StudyFolder, spec: ProfileSpec) -> list[ResultsTable]:
    """Each problem's verdict table, from its comparison's files (one whose folder is gone is left out)."""
    tables = []
    for problem, ident in spec.comparisons.items():
        comparison = StudyFolder.open(study.runs_root / ident)
        if comparison is not None:
            kind = CompareKind()
            compare_spec = kind.spec(comparison)
            main = kind.tables(comparison, compare_spec, kind.judge(comparison, compare_spec))[0]
            tables.append(replace(main, title=f"{problem}: {main.title}", notes=main.notes[:1]))
    return tables


def rank_table(spec: ProfileSpec, rows: tuple[RankRow, ...]) -> ResultsTable:
    problems = list(spec.ranks)
    intro = (
        "Each optimizer's rank on each problem, from that problem's verdict (the best and those equivalent to it "
        "share rank 1; an optimizer's best contender counts), and its mean rank over the problems it ran on."
    )
    cells = []
    for row in rows:
        ranks = (str(row.ranks[p]) if p in row.ranks else "not run" for p in problems)
        fewer = f" (over {len(row.ranks)} of {len(problems)})" if len(row.ranks) < len(problems) else ""
        cells.append((row.optimizer, *ranks, f"{row.mean_rank:.2f}{fewer}"))
    title = f"optimizers across {', '.join(problems)}"
    notes = ()
    if spec.untested:
        notes = (
            f"One seed on {', '.join(spec.untested)}: there a rank below 1 is the order of single runs, which the "
            "verdict could not test (it calls them inconclusive), so the mean rank leans on untested orders; "
            "--seeds 5 gives ranks that rest on a test.",
        )
    return ResultsTable(title, ("optimizer", *problems, "mean rank"), tuple(cells), intro=(intro,), notes=notes)


def steps_table(spec: ProfileSpec, rows: tuple[RankRow, ...]) -> ResultsTable:
    problems = list(spec.steps)

    def cell(problem: str, optimizer: str) -> str:
        if optimizer not in spec.steps[problem]:
            return "not run"
        steps = spec.steps[problem][optimizer]
        return "not reached" if steps is None else f"{steps:,.0f}"

    cells = tuple((row.optimizer, *(cell(p, row.optimizer) for p in problems)) for row in rows)
    notes = (
        "Performance profile (plots/performance_profile.png, Dolan and Moré 2002): for each factor tau, the "
        "fraction of the problems an optimizer ran on where its steps to the target are within tau times the "
        "fewest; not reached never is.",
        "Comparisons: " + "; ".join(f"{problem}: {ident}" for problem, ident in spec.comparisons.items()),
    )
    return ResultsTable("Steps to the target loss", ("optimizer", *problems), cells, notes=notes)
