"""The statistics of a verdict: the 95% confidence interval of a mean (Student's t), Welch's two-sample
t-test and Holm's step-down correction. The distributions are SciPy's (scipy.stats, imported on first use:
it takes most of a second to import, and `dltool runs` or `show` never need it); Holm's procedure, which
scipy.stats does not offer, is a few lines here. Where SciPy would give nan (no spread at all), the answer
is the plain one: no interval width, and a p-value of 1 for equal means, 0 for different ones."""

from __future__ import annotations

import math
import statistics
import warnings

CONFIDENCE = 0.95


def mean_interval(values: list[float]) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of the 95% confidence interval of the mean (t distribution); no interval for one value."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    from scipy.stats import t

    sem = statistics.stdev(values) / math.sqrt(len(values))
    half = float(t.ppf(0.5 + CONFIDENCE / 2.0, len(values) - 1)) * sem  # sem 0 is width 0, where t.interval is nan
    return mean, mean - half, mean + half


def welch_p(a: list[float], b: list[float]) -> float:
    """The two-sided p-value of Welch's t-test that the means of a and b are equal (two values or more each)."""
    if len(set(a)) == 1 and len(set(b)) == 1:  # no spread at all: equal means are one number, different ones differ
        return 1.0 if a[0] == b[0] else 0.0
    from scipy.stats import ttest_ind

    with warnings.catch_warnings():  # nearly identical losses (seeds that agree to float noise) are no user's error
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        return float(ttest_ind(a, b, equal_var=False).pvalue)


def holm_rejected(p_values: dict[str, float], alpha: float) -> dict[str, bool]:
    """Holm's step-down procedure: which hypotheses are rejected, the family-wise error rate kept at alpha."""
    rejected, still = {}, True
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    for position, (name, p) in enumerate(ordered):
        still = still and p <= alpha / (len(ordered) - position)
        rejected[name] = still
    return rejected
