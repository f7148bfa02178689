"""A comparison's numbers, read back from its member runs' stored files (never from memory), so the
tables of a finished, interrupted or crashed comparison can always be rebuilt the same way."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from dltool.store.run import RunSnapshot
from dltool.store.study import MemberEntry, StudyFolder
from dltool.study.verdict import Ruling, Standing, rule, standings_of

EVAL_SPLITS = ("valid", "test", "full")  # what a run is judged on, where its summary does not say (it crashed)


@dataclass
class MemberResult:
    member: MemberEntry
    snapshot: RunSnapshot | None  # None for a member that never got a run folder
    status: str
    records: list[dict]  # the evaluation records (loss on the test or whole set), in order
    time_to_target: float | None = None  # training seconds to the target loss; None: not reached
    steps_to_target: int | None = None

    @property
    def summary(self) -> dict:
        return self.snapshot.summary if self.snapshot else {}

    @property
    def run_id(self) -> str | None:
        return self.snapshot.id if self.snapshot else None

    @property
    def final_loss(self) -> float | None:
        losses = [r["loss"] for r in self.records]
        return losses[-1] if losses and self.status != "diverged" else None

    @property
    def last_finite(self) -> tuple[float, int] | None:
        """(loss, step) of the last evaluation with a finite loss: what a diverged member reached."""
        finite = [r for r in self.records if r.get("loss") is not None]
        return (finite[-1]["loss"], finite[-1]["step"]) if finite else None

    @property
    def best_loss(self) -> float | None:
        losses = [r["loss"] for r in self.records if r.get("loss") is not None]
        return min(losses) if losses else None

    @property
    def final_acc(self) -> float | None:
        accs = [r["acc"] for r in self.records if r.get("acc") is not None]
        return accs[-1] if accs else None

    @property
    def final_point(self) -> list[float] | None:
        return self.records[-1].get("x") if self.records else None

    @property
    def growing(self) -> bool:
        """Finite but moving away: the final loss is over 10x a positive starting one (gd with too large a step)."""
        losses = [r["loss"] for r in self.records if r.get("loss") is not None]
        return self.status == "completed" and len(losses) > 1 and losses[0] > 0 and losses[-1] > 10 * losses[0]

    @property
    def shown_status(self) -> str:
        if self.status == "diverged" and self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return "diverging" if self.growing else self.status

    @property
    def diverged_at(self) -> int | None:
        return self.snapshot.status.get("diverged_at_step") if self.snapshot and self.status == "diverged" else None


@dataclass
class Group:
    """One row of the tables: a member configuration over its seeds."""

    name: str
    results: list[MemberResult]
    stats: dict[str, tuple[float, float] | None] = field(default_factory=dict)  # key -> (mean, std)
    winner: bool = False
    standing: Standing | None = None  # its place in the verdict (shared by identical scratch and torch groups)

    @property
    def first(self) -> MemberEntry:
        return self.results[0].member

    @property
    def reached(self) -> str:
        """'4/5': how many seeds reached the target loss."""
        return f"{sum(r.time_to_target is not None for r in self.results)}/{len(self.results)}"

    @property
    def status(self) -> str:
        statuses = [r.shown_status for r in self.results]
        if len(set(statuses)) == 1:
            return statuses[0]
        return ", ".join(f"{statuses.count(s)}/{len(statuses)} {s}" for s in dict.fromkeys(statuses))


@dataclass(frozen=True)
class Verdict:
    """What the tables and figures show: the members' results, grouped over seeds, against a target loss."""

    results: list[MemberResult]
    groups: list[Group]
    target: float | None
    target_text: str
    gaps: dict[str, float]  # per variant: the largest relative scratch vs torch loss gap
    ruling: Ruling | None = None  # ranks, intervals, ties and the winner, if one (dltool.study.verdict)


def load_results(comparison: StudyFolder) -> list[MemberResult]:
    """Every member of the comparison, with its run's evaluation records and summary (each file read once)."""
    return [_member_result(comparison, member) for member in comparison.record.members]


def _member_result(comparison: StudyFolder, member: MemberEntry) -> MemberResult:
    run = comparison.member_run(member)
    if run is None:
        return MemberResult(member, None, member.status if member.status != "pending" else "not run", [])
    snapshot = run.snapshot()
    split = snapshot.eval_split or next(
        (name for name in EVAL_SPLITS if any(r.get("split") == name for r in snapshot.metrics)), None
    )
    records = [r for r in snapshot.metrics if r.get("split") == split]
    return MemberResult(member, snapshot, snapshot.status.get("status", member.status), records)


def judge(
    results: list[MemberResult], given_target: float | None, seeds: int = 1, problem_target: float | None = None
) -> Verdict:
    """The target loss (given, the problem's, or the best final + 10%), the groups measured against it, the
    gaps, and the ruling: who is best, and whether the others are tied with it (dltool.study.verdict)."""
    target = target_loss(results, given_target if given_target is not None else problem_target)
    if target is None:
        target_text = "no member completed, so no target loss"
    else:
        how = "given" if given_target is not None else "the problem's" if problem_target is not None else None
        target_text = f"target loss {target:.6g} ({how or 'best final + 10%'})"
    groups, gaps = group_results(results, target), impl_gaps(results)
    ruling = rule(standings_of(groups, gaps), seeds)
    for group in groups:
        group.winner = ruling.winner is not None and group.standing.name == ruling.winner
    return Verdict(results, groups, target, target_text, gaps, ruling)


def target_loss(results: list[MemberResult], given: float | None) -> float | None:
    """The loss a member must reach to count as arrived: given, or 10% of |best| above the best final loss."""
    if given is not None:
        return given
    finals = [r.final_loss for r in results if r.final_loss is not None and r.status == "completed"]
    if not finals:
        return None
    best = min(finals)
    return best + 0.1 * abs(best)


def time_to(records: list[dict], target: float | None) -> tuple[float, int] | None:
    """(training seconds, steps) at the first evaluation whose loss is at or below the target."""
    if target is None:
        return None
    for record in records:
        if record.get("loss") is not None and record["loss"] <= target:
            return record["time"], record["step"]
    return None


def _mean_std(values: list[float | None]) -> tuple[float, float] | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite or len(finite) < len(values):
        return None  # a mean over the seeds that happened to finish would flatter the group
    return statistics.fmean(finite), (statistics.stdev(finite) if len(finite) > 1 else 0.0)


def group_results(results: list[MemberResult], target: float | None) -> list[Group]:
    groups: dict[str, Group] = {}
    for result in results:
        result.time_to_target, result.steps_to_target = time_to(result.records, target) or (None, None)
        groups.setdefault(result.member.group, Group(result.member.group, [])).results.append(result)
    for group in groups.values():
        rs = group.results
        group.stats = {
            "final_loss": _mean_std([r.final_loss for r in rs]),
            "best_loss": _mean_std([r.best_loss for r in rs]),
            "final_acc": _mean_std([r.final_acc for r in rs]) if any(r.final_acc is not None for r in rs) else None,
            "time_to_target_s": _mean_std([r.time_to_target for r in rs]),
            "steps_to_target": _mean_std([r.steps_to_target for r in rs]),
            "wall_time_s": _mean_std([r.summary.get("wall_time_s") for r in rs]),
            "examples_per_s": _mean_std([r.summary.get("examples_per_s") for r in rs]),
        }
    return list(groups.values())


def impl_gaps(results: list[MemberResult]) -> dict[str, float]:
    """Per variant: the largest |scratch - torch| loss at the same evaluation, relative to the scratch loss."""
    by_key: dict[tuple, dict[str, MemberResult]] = {}
    for r in results:
        key = (r.member.variant, r.member.seed)
        by_key.setdefault(key, {})[r.member.impl] = r
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
