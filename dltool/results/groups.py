"""Members grouped over their seeds: one row of a study's tables, with (mean, std) per statistic; the
target loss of 'time to target' and the scratch vs torch gaps."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from dltool.results.members import MemberResult
from dltool.store.study import MemberEntry

Stat = tuple[float, float]  # (mean, std) over the seeds


@dataclass(frozen=True)
class Group:
    """One member configuration over its seeds."""

    name: str
    results: tuple[MemberResult, ...]
    stats: dict[str, Stat | None]  # statistic -> (mean, std); None where a seed has no value

    @property
    def first(self) -> MemberEntry:
        return self.results[0].member

    @property
    def reached(self) -> str:
        """'4/5': how many seeds reached the target loss."""
        return f"{self.arrived}/{len(self.results)}"

    @property
    def arrived(self) -> int:
        return sum(r.arrival is not None for r in self.results)

    @property
    def status(self) -> str:
        statuses = [r.shown_status for r in self.results]
        if len(set(statuses)) == 1:
            return statuses[0]
        return ", ".join(f"{statuses.count(s)}/{len(statuses)} {s}" for s in dict.fromkeys(statuses))

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "diverged") for r in self.results)


def mean_std(values: list[float | None]) -> Stat | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite or len(finite) < len(values):
        return None  # a mean over the seeds that happened to finish would flatter the group
    return statistics.fmean(finite), (statistics.stdev(finite) if len(finite) > 1 else 0.0)


def over_those_that_did(values: list[float | None]) -> Stat | None:
    """(mean, std) over the seeds that have a value (time to target: over the seeds that reached it, whose
    count is shown beside it); None where none has."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return statistics.fmean(present), (statistics.stdev(present) if len(present) > 1 else 0.0)


def group_stats(results: tuple[MemberResult, ...]) -> dict[str, Stat | None]:
    has_acc = any(r.final_acc is not None for r in results)
    validated = any(r.valid_loss is not None for r in results)
    return {
        "final_loss": mean_std([r.final_loss for r in results]),
        "best_loss": mean_std([r.best_loss for r in results]),
        "final_acc": mean_std([r.final_acc for r in results]) if has_acc else None,
        "valid_loss": mean_std([r.valid_loss for r in results]) if validated else None,
        "time_to_target_s": over_those_that_did([r.time_to_target for r in results]),
        "steps_to_target": over_those_that_did([r.steps_to_target for r in results]),
        "wall_time_s": mean_std([r.summary.get("wall_time_s") for r in results]),
        "examples_per_s": mean_std([r.summary.get("examples_per_s") for r in results]),
    }


def group_results(results: list[MemberResult]) -> list[Group]:
    """The members by their group (in plan order), each group with its statistics over seeds."""
    by_name: dict[str, list[MemberResult]] = {}
    for result in results:
        by_name.setdefault(result.member.group, []).append(result)
    return [Group(name, tuple(members), group_stats(tuple(members))) for name, members in by_name.items()]


def impl_gaps(results: list[MemberResult]) -> dict[str, float]:
    """Per variant: the largest |scratch - torch| loss at the same evaluation, relative to the scratch loss."""
    by_key: dict[tuple, dict[str, MemberResult]] = {}
    for r in results:
        by_key.setdefault((r.member.variant, r.member.seed), {})[r.member.impl] = r
    gaps: dict[str, float] = {}
    for (variant, _seed), pair in by_key.items():
        if set(pair) != {"scratch", "torch"}:
            continue
        gap = 0.0
        for a, b in zip(pair["scratch"].records, pair["torch"].records):
            if a.get("loss") is not None and b.get("loss") is not None and a["loss"] != 0:
                gap = max(gap, abs(a["loss"] - b["loss"]) / abs(a["loss"]))
        gaps[variant] = max(gaps.get(variant, 0.0), gap)
    return gaps
