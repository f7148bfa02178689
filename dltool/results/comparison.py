"""A comparison's results: its members against a target loss, grouped over seeds, the scratch vs torch
gaps and the verdict (dltool.results.verdict), computed once into one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from dltool.results.budget import BudgetCurve, budget_curve, trial_values
from dltool.results.groups import Group, group_results, impl_gaps
from dltool.results.members import MemberResult, load_results, split_words, with_target
from dltool.results.targets import TARGET_SLACK, target_loss
from dltool.results.verdict import Rule, Standing, Verdict, rule, standings_of
from dltool.store.study import StudyFolder


@dataclass(frozen=True)
class Judging:
    """What a comparison is judged against, fixed by its plan."""

    seeds: int = 1
    given_target: float | None = None  # --target-loss
    problem_target: float | None = None  # the problem's target loss
    margin: float = 0.01  # the practical equivalence margin, relative to the best's loss
    deterministic: bool = False  # its seeds repeat identical runs


@dataclass(frozen=True)
class ComparisonResults:
    results: tuple[MemberResult, ...]
    groups: tuple[Group, ...]
    target: float | None
    target_text: str
    gaps: dict[str, float]  # per variant: the largest relative scratch vs torch loss gap
    verdict: Verdict
    split: str | None  # the split the final losses are on: test where the data has one, else valid or full
    budget: tuple[BudgetCurve, ...] = ()  # --tune: each tuned setting's expected best against the budget

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
    results: list[MemberResult], judging: Judging, budget: tuple[BudgetCurve, ...] = ()
) -> ComparisonResults:
    """The target loss (given, the problem's, or the best final + TARGET_SLACK), the groups measured against it, the
    gaps, and the verdict: who is best, and what the seeds support about the others."""
    given, problem = judging.given_target, judging.problem_target
    target = target_loss(results, given if given is not None else problem)
    split = next((r.split for r in results if r.split), None)
    on = f" on the {split_words(split)}" if split else ""
    if target is None:
        target_text = "no member completed, so no target loss"
    else:
        how = "given" if given is not None else "the problem's" if problem is not None else None
        target_text = f"target loss {target:.6g}{on} ({how or f'best final + {TARGET_SLACK:.0%}'})"
    arrived = with_target(results, target)
    groups, gaps = group_results(arrived), impl_gaps(arrived)
    how = Rule(judging.margin, judging.seeds, judging.deterministic, True, split)
    verdict = rule(standings_of(groups, gaps), how)
    return ComparisonResults(tuple(arrived), tuple(groups), target, target_text, gaps, verdict, split, budget)


def judge_study(study: StudyFolder, judging: Judging, tuning: dict[str, str] | None = None) -> ComparisonResults:
    """The comparison's results from its members' files as they are now (a running one: so far), on the
    test split where its runs have one beside their validation split; with `tuning` (setting -> its tuning
    study's id), each setting's expected best against the budget, from its trials' files."""
    curves = []
    for name, ident in (tuning or {}).items():
        tuned = StudyFolder.open(study.runs_root / ident)
        values = trial_values(load_results(tuned)) if tuned is not None else []
        default = (tuned.record.header.plan.get("default") or {}).get("value") if tuned is not None else None
        if values:
            curves.append(budget_curve(name, values, default=default))
    return judge_comparison(load_results(study, on_test=True), judging, tuple(curves))
