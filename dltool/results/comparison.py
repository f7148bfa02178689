"""A comparison's results: its members against a target loss, grouped over seeds, the scratch vs torch
gaps and the verdict (dltool.results.verdict), computed once into one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from dltool.results.groups import Group, group_results, impl_gaps, target_loss
from dltool.results.members import MemberResult, load_results, with_target
from dltool.results.verdict import Standing, Verdict, rule, standings_of
from dltool.store.study import StudyFolder


@dataclass(frozen=True)
class ComparisonResults:
    results: tuple[MemberResult, ...]
    groups: tuple[Group, ...]
    target: float | None
    target_text: str
    gaps: dict[str, float]  # per variant: the largest relative scratch vs torch loss gap
    verdict: Verdict

    def standing(self, group: Group) -> Standing | None:
        return self.verdict.of(group)

    def shown_groups(self) -> list[Group]:
        """The table's rows, best rank first: one per contender (identical scratch and torch are one row)."""
        shown, seen = [], set()
        for group in self.groups:
            standing = self.standing(group)
            if standing is None or standing.name not in seen:
                shown.append(group)
                seen.add(standing.name if standing else group.name)
        last = len(self.groups) + 1
        return sorted(shown, key=lambda g: (self.standing(g).rank or last) if self.standing(g) else last)


def judge_comparison(
    results: list[MemberResult], given_target: float | None, seeds: int = 1, problem_target: float | None = None
) -> ComparisonResults:
    """The target loss (given, the problem's, or the best final + 10%), the groups measured against it, the
    gaps, and the verdict: who is best, and whether the others are tied with it."""
    target = target_loss(results, given_target if given_target is not None else problem_target)
    if target is None:
        target_text = "no member completed, so no target loss"
    else:
        how = "given" if given_target is not None else "the problem's" if problem_target is not None else None
        target_text = f"target loss {target:.6g} ({how or 'best final + 10%'})"
    arrived = with_target(results, target)
    groups, gaps = group_results(arrived), impl_gaps(arrived)
    verdict = rule(standings_of(groups, gaps), seeds)
    return ComparisonResults(tuple(arrived), tuple(groups), target, target_text, gaps, verdict)


def judge_study(study: StudyFolder, given_target: float | None, seeds: int, problem_target: float | None):
    """The comparison's results from its members' files as they are now (a running one: so far)."""
    return judge_comparison(load_results(study), given_target, seeds, problem_target)
