"""The statistics of a verdict: the 95% t interval of a mean, the interval of the difference of two
contenders' losses (paired by seed, or Welch's where the seeds differ) at a given level, and how many seeds
the observed spread says would settle an open question. The distributions are SciPy's (scipy.stats,
imported on first use: it takes most of a second, and `dltool runs` or `show` of a run never need it)."""

from __future__ import annotations

import math
import statistics

import numpy as np

CONFIDENCE = 0.95
MAX_SEEDS = 1000  # the most seeds an estimate of what would settle a question names


def _t(quantile: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(quantile, df))


def mean_interval(values: list[float]) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of the 95% confidence interval of the mean (t distribution); no interval for one value."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = _t(0.5 + CONFIDENCE / 2.0, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half  # no spread: width 0 (scipy's t.interval would say nan)


def difference_interval(a: list[float], b: list[float], paired: bool, alpha: float) -> tuple[float, float, float]:
    """(low, high, spread): the two-sided 1 - alpha interval of mean(a) - mean(b), and the per-seed standard
    deviation of a difference it rests on. Paired: a[i] and b[i] share seed i (the t interval of the per-seed
    differences); else Welch's, with the Welch–Satterthwaite degrees of freedom."""
    if paired:
        differences = [x - y for x, y in zip(a, b)]
        spread = statistics.stdev(differences)
        half = _t(1 - alpha / 2, len(differences) - 1) * spread / math.sqrt(len(differences))
        middle = statistics.fmean(differences)
        return middle - half, middle + half, spread
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    middle = statistics.fmean(a) - statistics.fmean(b)
    if va + vb == 0.0:
        return middle, middle, 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _t(1 - alpha / 2, df) * math.sqrt(va + vb)
    return middle - half, middle + half, math.sqrt(statistics.variance(a) + statistics.variance(b))


def seeds_to_settle(difference: float, spread: float, margin: float, alpha: float, seeds: int) -> int | None:
    """The fewest seeds (more than `seeds`) whose interval, at this spread, would lie inside ±margin or above 0:
    the half-width must shrink below max(margin - |difference|, difference). None where no number of seeds up
    to MAX_SEEDS would (a difference right at the margin, or none at all with no margin)."""
    room = max(margin - abs(difference), difference)
    if room <= 0 or spread <= 0:
        return None
    from scipy.stats import t

    n = np.arange(max(seeds + 1, 2), MAX_SEEDS + 1)
    half = t.ppf(1 - alpha / 2, n - 1) * spread / np.sqrt(n)
    enough = np.nonzero(half < room)[0]
    return int(n[enough[0]]) if enough.size else None
