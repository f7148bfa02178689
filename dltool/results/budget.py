"""The verdict against the tuning budget (Dodge et al. 2019, "Show your work"): from an optimizer's pool
of N tuning trials, the expected best tuning objective (validation loss, or the training loss where the
data has no held-out split) after k trials, for k = 1..N, as if k trials were
drawn from the pool with replacement. Exact: with the pool sorted best first, v(1) <= ... <= v(N),

    E[best of k] = sum_i v(i) * (((N - i + 1) / N)^k - ((N - i) / N)^k),

and a 95% interval from resampling the pool (a bootstrap over trials). An optimizer that is better only
at large k is harder to tune; one that leads at k = 1 is good out of the box."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dltool.results.table import ResultsTable

BOOTSTRAP = 1000
SHOWN_BUDGETS = (1, 4, 16)  # the table's columns, beside the full budget N


@dataclass(frozen=True)
class BudgetCurve:
    name: str  # the tuned setting ("adam lr=0.001"), as the comparison's variant
    budgets: tuple[int, ...]  # k = 1..N
    expected: tuple[float, ...]  # E[best of k]
    low: tuple[float, ...]  # its 95% bootstrap interval
    high: tuple[float, ...]
    default: float | None = None  # k = 0: the untuned setting's value (None: not measured, or it failed)

    def at(self, k: int) -> tuple[float, float, float]:
        """(expected best, low, high) after k trials; k = 0 is the untuned setting (infinite where unknown)."""
        if k == 0:
            value = self.default if self.default is not None else math.inf
            return value, value, value
        index = self.budgets.index(k)
        return self.expected[index], self.low[index], self.high[index]


def expected_best(pool: np.ndarray, k: int) -> np.ndarray:
    """E[min of k draws with replacement] of each row of `pool` (a 2-D array: rows are pools)."""
    ordered = np.sort(pool, axis=-1)
    n = ordered.shape[-1]
    i = np.arange(1, n + 1)
    weights = ((n - i + 1) / n) ** k - ((n - i) / n) ** k
    return ordered @ weights


def budget_curve(name: str, values: list[float], seed: int = 0, default: float | None = None) -> BudgetCurve:
    """The expected best after k = 1..N trials, with a bootstrap interval over the trials."""
    pool = np.asarray(values, dtype=float)
    budgets = tuple(range(1, len(pool) + 1))
    resampled = np.random.default_rng(seed).choice(pool, size=(BOOTSTRAP, len(pool)), replace=True)
    expected, low, high = [], [], []
    for k in budgets:
        expected.append(float(expected_best(pool[None, :], k)[0]))
        boot = expected_best(resampled, k)
        low.append(float(np.percentile(boot, 2.5)))
        high.append(float(np.percentile(boot, 97.5)))
    return BudgetCurve(name, budgets, tuple(expected), tuple(low), tuple(high), default)


def leaders(curves: list[BudgetCurve], k: int, margin: float) -> list[str]:
    """The settings whose expected best after k trials lies within the margin (relative) of the best's."""
    best = min(curve.at(k)[0] for curve in curves)
    reach = best + margin * abs(best)
    return [curve.name for curve in sorted(curves, key=lambda c: c.at(k)[0]) if curve.at(k)[0] <= reach]


def ranking_changes(curves: list[BudgetCurve], budgets: list[int], margin: float) -> list[str]:
    """Where the lead changes between the shown budgets, in words: only where none of the settings leading
    at one budget (within the margin of the best there) still leads at the next. A swap inside the margin
    is the bootstrap's noise, not a finding."""
    changes = []
    for before, after in zip(budgets, budgets[1:]):
        first, then = leaders(curves, before, margin), leaders(curves, after, margin)
        if not set(first) & set(then):
            changes.append(
                f"the lead passes from {' and '.join(first)} (k = {before}) to {' and '.join(then)} (k = {after})"
            )
    return changes


def trial_values(results: list) -> list[float]:
    """Each trial's tuning objective (a pruned one's at its last evaluation). Where the split was evaluated at
    step 0, a trial that diverged, failed or ended above that starting loss counts at it (no progress: one
    blow-up to 1e12 would otherwise outweigh every other trial in the expected best); elsewhere (a classifier
    evaluated at epoch ends) a final loss counts as it is, and a diverged trial at its first evaluation. One
    with no loss at all is left out."""
    values = []
    for result in results:
        first = next((r for r in result.records if r.get("loss") is not None), None)
        start = first["loss"] if first is not None and first.get("step") == 0 else None
        if result.final_loss is not None:
            values.append(result.final_loss if start is None else min(result.final_loss, start))
        elif first is not None:
            values.append(first["loss"])
    return values


def budget_table(curves: tuple[BudgetCurve, ...], margin: float) -> ResultsTable:
    """Each tuned setting's expected best validation loss after k trials, at a few budgets and the full one."""
    full = min(len(curve.budgets) for curve in curves)
    budgets = [k for k in SHOWN_BUDGETS if k < full] + [full]
    rows = []
    for curve in sorted(curves, key=lambda c: c.at(full)[0]):
        cells = [f"{mean:.4g} [{low:.4g}, {high:.4g}]" for mean, low, high in map(curve.at, budgets)]
        untuned = f"{curve.default:.4g}" if curve.default is not None else "failed or not run"
        rows.append((curve.name, untuned, *cells))
    measured = [0] if any(curve.default is not None for curve in curves) else []
    changes = ranking_changes(list(curves), measured + budgets, margin)
    notes = (
        "Expected best tuning objective (the loss selection reads) after k of the tuning trials (Dodge et al. 2019: "
        "k trials drawn from each "
        "setting's pool, exact), with a 95% bootstrap interval over the trials; the verdict above is at the full "
        f"budget (k = {full}). k = 0 is the untuned setting, trained once outside the trials' pool. A pruned trial "
        "counts at its last evaluation; a diverged one at its first evaluation, and where that is at step 0, one that "
        "ended above it counts at it too (no progress).",
        (f"Ranking by budget (a lead is the best and those within {margin:.0%} of it): " + "; ".join(changes) + ".")
        if changes
        else f"The lead does not change between the budgets shown: each budget's leaders (the best and those within "
        f"{margin:.0%} of it) include one of the previous budget's.",
    )
    headings = ("setting", "k = 0 (untuned)", *(f"k = {k}" for k in budgets))
    return ResultsTable("the verdict against the tuning budget", headings, tuple(rows), notes=notes)
