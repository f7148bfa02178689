"""The results of a study whose members are points (a sweep's grid values, a tuning study's trials): the
points over their seeds, sorted by the study's metric (mean ± std), the best completed point first."""

from __future__ import annotations

from dataclasses import dataclass

from dltool.results.groups import Group, Stat, group_results
from dltool.results.members import MemberResult, with_target
from dltool.results.targets import target_loss

METRICS = {  # --metric: (the group statistic it reads, what it says, higher is better)
    "loss": ("final_loss", "final loss", False),
    "best_loss": ("best_loss", "best loss", False),
    "acc": ("final_acc", "final accuracy", True),
}


@dataclass(frozen=True)
class PointResults:
    results: tuple[MemberResult, ...]
    groups: tuple[Group, ...]  # best first by the metric; points without a value for it last
    metric: str  # loss, best_loss or acc
    split: str | None  # the split the metric is measured on (valid, test or full)
    winner: str | None  # the best point's group, where it completed

    @property
    def stat(self) -> str:
        return METRICS[self.metric][0]

    @property
    def described(self) -> str:
        """'final loss on valid': what the ranking column says."""
        return METRICS[self.metric][1] + (f" on {self.split}" if self.split else "")

    def value(self, group: Group) -> Stat | None:
        return group.stats.get(self.stat)


def judge_points(results: list[MemberResult], metric: str) -> PointResults:
    """The members' results grouped by point and ranked by the metric; the best completed point wins."""
    arrived = with_target(results, target_loss(results, None))
    stat, _, higher = METRICS[metric]

    def rank(group: Group) -> tuple:
        value = group.stats.get(stat)
        return (value is None, 0.0 if value is None else (-value[0] if higher else value[0]))

    groups = sorted(group_results(arrived), key=rank)
    best = groups[0] if groups else None
    won = best is not None and best.stats.get(stat) and all(r.status == "completed" for r in best.results)
    split = next((r.split for r in arrived if r.split), None)
    return PointResults(tuple(arrived), tuple(groups), metric, split, best.name if won else None)
