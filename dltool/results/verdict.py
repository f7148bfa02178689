"""Who is best, and how sure: the verdict rule of a comparison, on the members' final losses over seeds.

- Scratch and torch of one optimizer setting are one contender, "scratch = torch", when their losses agree
  to float noise at every evaluation (a relative gap of at most IDENTICAL_RTOL): they are the same
  algorithm, not two rivals. Otherwise each is a contender.
- Each contender: its mean final loss, the 95% t interval over the seeds, and its rank by mean.
- With two seeds or more, a contender is tied for best when Welch's t-test against the best (two-sided)
  does not find it worse at alpha 0.05 after Holm's correction over the other contenders.
- With one seed nothing can be tested: within ONE_SEED_TOLERANCE (relative) of the best counts as tied.
- A single winner is claimed only when no other contender is tied for best. A contender with a
  diverged or missing seed is not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dltool.study.stats import holm_rejected, mean_interval, welch_p

IDENTICAL_RTOL = 1e-4
ALPHA = 0.05
ONE_SEED_TOLERANCE = 0.01


class Group(Protocol):
    """What the rule reads of a table group (dltool.study.results.Group, which imports this module)."""

    name: str
    results: list[Any]  # MemberResult: status, final_loss
    standing: Standing | None

    @property
    def first(self) -> Any: ...  # MemberEntry: variant, impl


@dataclass
class Standing:
    name: str  # "adam lr=0.01 (scratch = torch)", or a group's name
    groups: list[str]  # the table's groups it stands for
    values: list[float] | None  # the final loss of each seed; None where a seed has none
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rank: int | None = None
    tied_for_best: bool = False

    def to_json(self) -> dict:
        keys = ("name", "groups", "mean", "ci_low", "ci_high", "rank", "tied_for_best")
        return {key: getattr(self, key) for key in keys}


@dataclass(frozen=True)
class Ruling:
    standings: list[Standing]  # by rank; unranked last
    rule: str  # the rule applied, in words
    winner: str | None  # the single best contender; None when others are tied with it or nothing ranked


def rule_text(seeds: int) -> str:
    if seeds > 1:
        return (
            f"ranked by mean final loss over {seeds} seeds, with 95% t intervals; tied for best = not "
            f"significantly worse than the best (Welch's t-test, two-sided, alpha {ALPHA}, Holm-corrected)"
        )
    return (
        f"one seed: nothing can be tested, so a final loss within {ONE_SEED_TOLERANCE:.0%} of the best counts "
        "as tied for best; run with --seeds 5 for intervals and a tested verdict"
    )


def rule(standings: list[Standing], seeds: int) -> Ruling:
    """Rank the standings, mark those tied for best, and say whether one of them wins."""
    ranked = sorted((s for s in standings if s.values), key=lambda s: sum(s.values) / len(s.values))
    for rank, standing in enumerate(ranked, start=1):
        standing.mean, standing.ci_low, standing.ci_high = mean_interval(standing.values)
        standing.rank = rank
    if ranked:
        _mark_ties(ranked)
    unranked = [s for s in standings if not s.values]
    tied = [s for s in ranked if s.tied_for_best]
    winner = tied[0].name if len(tied) == 1 else None
    return Ruling(ranked + unranked, rule_text(seeds), winner)


def _mark_ties(ranked: list[Standing]) -> None:
    best, others = ranked[0], ranked[1:]
    best.tied_for_best = True
    if min(len(s.values) for s in ranked) < 2:
        scale = abs(best.mean) or 1.0
        for standing in others:
            standing.tied_for_best = (standing.mean - best.mean) / scale <= ONE_SEED_TOLERANCE
        return
    worse = holm_rejected({s.name: welch_p(s.values, best.values) for s in others}, ALPHA)
    for standing in others:
        standing.tied_for_best = not worse[standing.name]


def standings_of(groups: list[Group], gaps: dict[str, float]) -> list[Standing]:
    """One standing per contender: a variant's two impls as one where they are identical, else each group.
    Each group gets its standing (group.standing), for the tables."""
    by_variant: dict[str, list[Group]] = {}
    for group in groups:
        by_variant.setdefault(group.first.variant, []).append(group)
    standings = []
    for variant, members in by_variant.items():
        impls = {group.first.impl: group for group in members}
        values = {impl: _final_losses(group) for impl, group in impls.items()}
        if set(impls) == {"scratch", "torch"} and gaps.get(variant, 1.0) <= IDENTICAL_RTOL and all(values.values()):
            merged = Standing(f"{variant} (scratch = torch)", [g.name for g in members], values["scratch"])
            parts = [(merged, members)]
        else:
            parts = [(Standing(group.name, [group.name], values[group.first.impl]), [group]) for group in members]
        for standing, its_groups in parts:
            standings.append(standing)
            for group in its_groups:
                group.standing = standing
    return standings


def _final_losses(group: Group) -> list[float] | None:
    """Every seed's final loss; None unless every seed completed with one."""
    losses = [r.final_loss if r.status == "completed" else None for r in group.results]
    return None if any(loss is None for loss in losses) else losses
