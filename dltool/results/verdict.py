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

from dataclasses import dataclass, replace

from dltool.results.groups import Group
from dltool.results.stats import holm_rejected, mean_interval, welch_p

IDENTICAL_RTOL = 1e-4
ALPHA = 0.05
ONE_SEED_TOLERANCE = 0.01


@dataclass(frozen=True)
class Standing:
    """A contender's place in the verdict."""

    name: str  # "adam lr=0.01 (scratch = torch)", or a group's name
    groups: tuple[str, ...]  # the table's groups it stands for
    values: tuple[float, ...] | None  # the final loss of each seed; None where a seed has none
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rank: int | None = None
    tied_for_best: bool = False

    def to_json(self) -> dict:
        keys = ("name", "groups", "mean", "ci_low", "ci_high", "rank", "tied_for_best")
        return {key: list(value) if isinstance(value := getattr(self, key), tuple) else value for key in keys}


@dataclass(frozen=True)
class Verdict:
    standings: tuple[Standing, ...]  # by rank; unranked last
    rule: str  # the rule applied, in words
    winner: str | None  # the single best contender; None when others are tied with it or nothing ranked

    def of(self, group: Group) -> Standing | None:
        """The standing a table group has (identical scratch and torch groups share one)."""
        return next((s for s in self.standings if group.name in s.groups), None)

    def won(self, group: Group) -> bool:
        standing = self.of(group)
        return standing is not None and standing.name == self.winner

    def to_json(self) -> dict:
        return {"rule": self.rule, "winner": self.winner, "optimizers": [s.to_json() for s in self.standings]}


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


def rule(standings: list[Standing], seeds: int) -> Verdict:
    """Rank the standings, mark those tied for best, and say whether one of them wins."""
    ranked = sorted((s for s in standings if s.values), key=lambda s: sum(s.values) / len(s.values))
    ranked = [_measured(standing, rank) for rank, standing in enumerate(ranked, start=1)]
    if ranked:
        ranked = _marked_ties(ranked)
    unranked = [s for s in standings if not s.values]
    tied = [s for s in ranked if s.tied_for_best]
    winner = tied[0].name if len(tied) == 1 else None
    return Verdict(tuple(ranked + unranked), rule_text(seeds), winner)


def _measured(standing: Standing, rank: int) -> Standing:
    mean, low, high = mean_interval(list(standing.values))
    return replace(standing, mean=mean, ci_low=low, ci_high=high, rank=rank)


def _marked_ties(ranked: list[Standing]) -> list[Standing]:
    best, others = ranked[0], ranked[1:]
    if min(len(s.values) for s in ranked) < 2:
        scale = abs(best.mean) or 1.0
        tied = {s.name: (s.mean - best.mean) / scale <= ONE_SEED_TOLERANCE for s in others}
    else:
        worse = holm_rejected({s.name: welch_p(list(s.values), list(best.values)) for s in others}, ALPHA)
        tied = {name: not rejected for name, rejected in worse.items()}
    return [replace(best, tied_for_best=True), *(replace(s, tied_for_best=tied[s.name]) for s in others)]


def standings_of(groups: list[Group], gaps: dict[str, float]) -> list[Standing]:
    """One standing per contender: a variant's two impls as one where they are identical, else each group."""
    by_variant: dict[str, list[Group]] = {}
    for group in groups:
        by_variant.setdefault(group.first.variant, []).append(group)
    standings = []
    for variant, members in by_variant.items():
        impls = {group.first.impl: group for group in members}
        values = {impl: _final_losses(group) for impl, group in impls.items()}
        if set(impls) == {"scratch", "torch"} and gaps.get(variant, 1.0) <= IDENTICAL_RTOL and all(values.values()):
            standings.append(
                Standing(f"{variant} (scratch = torch)", tuple(g.name for g in members), values["scratch"])
            )
        else:
            standings += [Standing(group.name, (group.name,), values[group.first.impl]) for group in members]
    return standings


def _final_losses(group: Group) -> tuple[float, ...] | None:
    """Every seed's final loss; None unless every seed completed with one."""
    losses = [r.final_loss if r.status == "completed" else None for r in group.results]
    return None if any(loss is None for loss in losses) else tuple(losses)
