"""Who is best, and what the seeds can support: the verdict rule of a comparison.

- Scratch and torch of one optimizer setting are one contender, "scratch = torch", when their losses agree
  to float noise at every evaluation (a relative gap of at most IDENTICAL_RTOL): the same algorithm, not two
  rivals. Otherwise each is a contender.
- A contender is finished when every seed completed with a finite final loss that is not growing away from
  its start. Finished contenders are ranked by their mean final loss over the seeds; the others after every
  finished one (by how many seeds failed, then by the mean over their finished seeds): a wild seed is never
  averaged in, and such a contender is labelled with what happened, never best or equivalent.
- Against the best, each finished contender's difference in final loss: the mean per-seed difference when
  the seeds are paired (seed s of every contender starts from the same parameters and sees the same data),
  with a 95% simultaneous interval over the family (paired t intervals at the Bonferroni level 1 - 0.05/m
  for m contenders compared with the best); Welch's interval where the seed sets differ.
- Labels: best; equivalent when the interval lies inside ±margin (a practical margin, relative to the best's
  loss; asked first); worse when it lies above 0; inconclusive otherwise, with how many seeds the observed
  spread says would settle it. One seed tests nothing: every other contender is inconclusive. A deterministic problem
  (its seeds cannot change the result) is judged by value: within the margin is equivalent, else worse.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from dltool.results.groups import Group
from dltool.results.members import split_words
from dltool.results.stats import difference_interval, mean_interval, seeds_to_settle

IDENTICAL_RTOL = 1e-4
ALPHA = 0.05
LABELS = ("best", "equivalent", "worse", "inconclusive")


@dataclass(frozen=True)
class Standing:
    """A contender's place in the verdict."""

    name: str  # "adam lr=0.01 (scratch = torch)", or a group's name
    groups: tuple[str, ...]  # the table's groups it stands for
    values: tuple[float | None, ...]  # each seed's final loss; None where that seed failed
    seeds: tuple[int, ...]  # the seed of each value: contenders with the same seeds are paired
    failure: str | None = None  # what happened to the failed seeds ("diverged", "3/5 diverged"); None: finished
    mean: float | None = None  # over the finished seeds
    ci_low: float | None = None  # the 95% t interval of the mean
    ci_high: float | None = None
    rank: int | None = None
    label: str | None = None  # best, equivalent, worse, inconclusive; the failure for a failed contender
    difference: float | None = None  # mean final loss minus the best's (per seed, when paired)
    diff_low: float | None = None  # its simultaneous 95% interval
    diff_high: float | None = None
    seeds_needed: int | None = None  # an inconclusive one: the seeds its observed spread says would settle it

    @property
    def finished(self) -> bool:
        return self.failure is None and bool(self.values)

    @property
    def finished_values(self) -> list[float]:
        return [value for value in self.values if value is not None]

    def to_json(self) -> dict:
        keys = ("name", "groups", "mean", "ci_low", "ci_high", "rank", "label", "difference", "diff_low")
        keys += ("diff_high", "seeds_needed", "failure")
        return {key: list(value) if isinstance(value := getattr(self, key), tuple) else value for key in keys}


@dataclass(frozen=True)
class Rule:
    """How the verdict was reached, as study.json states it."""

    margin: float  # relative to the best's mean loss
    seeds: int
    deterministic: bool  # judged by value: the seeds repeat identical runs
    paired: bool  # every contender ran the same seeds
    split: str | None  # the split the losses are on

    def text(self) -> str:
        margin = f"±{self.margin:.1%} of the best's loss"
        on = f" on the {split_words(self.split)}" if self.split else ""
        if self.deterministic:
            return (
                f"a deterministic problem: every seed repeats the same run, so the final losses{on} are compared "
                f"by value: within {margin} is equivalent, beyond it worse"
            )
        if self.seeds < 2:
            return (
                f"one seed: nothing can be tested, so only the best final loss{on} is named; the others are "
                "inconclusive until --seeds gives a spread (5 is a start)"
            )
        how = "paired by seed, t" if self.paired else "Welch"
        return (
            f"ranked by mean final loss{on} over {self.seeds} seeds; each contender's difference to the best with a "
            f"95% simultaneous interval ({how}, Bonferroni over the contenders); equivalent: inside {margin}; "
            "worse: above 0; inconclusive: neither; failed seeds rank last and are never averaged in"
        )


@dataclass(frozen=True)
class Verdict:
    standings: tuple[Standing, ...]  # by rank: finished first, failed after
    rule: Rule

    @property
    def best(self) -> Standing | None:
        return next((s for s in self.standings if s.label == "best"), None)

    def labelled(self, label: str) -> list[Standing]:
        return [s for s in self.standings if s.label == label]

    def of(self, group: Group) -> Standing | None:
        """The standing a table group has (identical scratch and torch groups share one)."""
        return next((s for s in self.standings if group.name in s.groups), None)

    def is_best(self, group: Group) -> bool:
        standing = self.of(group)
        return standing is not None and standing.label == "best"

    def to_json(self) -> dict:
        best = self.best
        rule = {"text": self.rule.text(), "margin": self.rule.margin, "seeds": self.rule.seeds}
        rule |= {"deterministic": self.rule.deterministic, "paired": self.rule.paired, "split": self.rule.split}
        return {"rule": rule, "best": best.name if best else None, "contenders": [s.to_json() for s in self.standings]}


def rule(standings: list[Standing], how: Rule) -> Verdict:
    """Rank the contenders, compare each with the best, and label what the seeds support."""
    finished = sorted((s for s in standings if s.finished), key=lambda s: statistics.fmean(s.values))
    failed = [s for s in standings if not s.finished]
    failed.sort(key=lambda s: (sum(v is None for v in s.values), _mean_or_inf(s)))
    paired = len({s.seeds for s in finished}) <= 1
    how = replace(how, paired=paired)
    measured = [_measured(s, rank) for rank, s in enumerate([*finished, *failed], start=1)]
    if finished:
        best, others = measured[0], measured[1 : len(finished)]
        judged = [replace(best, label="best", difference=0.0)]
        judged += [_judged(s, best, how, len(others)) for s in others]
        measured = judged + measured[len(finished) :]
    return Verdict(tuple(measured), how)


def _mean_or_inf(standing: Standing) -> float:
    values = standing.finished_values
    return statistics.fmean(values) if values else math.inf


def _measured(standing: Standing, rank: int) -> Standing:
    values = standing.finished_values
    if not values:
        return replace(standing, rank=rank, label=standing.failure)
    mean, low, high = mean_interval(values)
    return replace(standing, mean=mean, ci_low=low, ci_high=high, rank=rank, label=standing.failure)


def _judged(standing: Standing, best: Standing, rule: Rule, family: int) -> Standing:
    margin = rule.margin * abs(best.mean)
    difference = standing.mean - best.mean
    if rule.deterministic:
        return replace(standing, difference=difference, label="equivalent" if difference <= margin else "worse")
    if rule.seeds < 2 or len(standing.values) < 2 or len(best.values) < 2:
        return replace(standing, difference=difference, label="inconclusive")
    a, b = list(standing.values), list(best.values)
    low, high, spread = difference_interval(a, b, paired=rule.paired, alpha=ALPHA / family)
    if -margin <= low and high <= margin:
        label = "equivalent"
    elif low > 0:
        label = "worse"
    else:
        label = "inconclusive"
    needed = seeds_to_settle(difference, spread, margin, ALPHA / family, len(a)) if label == "inconclusive" else None
    return replace(standing, difference=difference, diff_low=low, diff_high=high, label=label, seeds_needed=needed)


def standings_of(groups: list[Group], gaps: dict[str, float]) -> list[Standing]:
    """One standing per contender: a variant's two impls as one where they are identical, else each group."""
    by_variant: dict[str, list[Group]] = {}
    for group in groups:
        by_variant.setdefault(group.first.variant, []).append(group)
    standings = []
    for variant, members in by_variant.items():
        impls = {group.first.impl: group for group in members}
        if set(impls) == {"scratch", "torch"} and gaps.get(variant, 1.0) <= IDENTICAL_RTOL and _same(impls):
            standings.append(_standing(f"{variant} (scratch = torch)", members, impls["scratch"]))
        else:
            standings += [_standing(group.name, [group], group) for group in members]
    return standings


def _same(impls: dict[str, Group]) -> bool:
    """Both impls finished every seed (their losses are compared evaluation by evaluation: the gap)."""
    return all(_failure(group) is None for group in impls.values())


def _standing(name: str, groups: list[Group], group: Group) -> Standing:
    values = tuple(r.final_loss if _finished(r) else None for r in group.results)
    seeds = tuple(r.member.seed for r in group.results)
    return Standing(name, tuple(g.name for g in groups), values, seeds, _failure(group))


def _finished(result) -> bool:
    return result.status == "completed" and result.final_loss is not None and not result.growing


def _failure(group: Group) -> str | None:
    """What happened to the seeds that did not finish: 'diverged', '2/5 diverging, 1/5 failed'; None: none."""
    shown = [_what(r) for r in group.results if not _finished(r)]
    if not shown:
        return None
    counts = {what: shown.count(what) for what in dict.fromkeys(shown)}
    if len(shown) == len(group.results) and len(counts) == 1:
        return shown[0]
    return ", ".join(f"{count}/{len(group.results)} {what}" for what, count in counts.items())


def _what(result) -> str:
    if result.status == "completed":
        return "diverging" if result.growing else "no final loss"
    return "not run" if result.status in ("not run", "pending") else result.status
