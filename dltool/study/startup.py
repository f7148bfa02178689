"""A tuning study's first trials: scrambled Sobol points over the whole space, then TPE. Optuna's TPE
starts with 10 random trials drawn from a seeded generator: every tuning study with the same seed drew
the same multipliers of its optimizer's default learning rate (×0.59 to ×4.3 with 6 trials, of a stated
×1/30 to ×30), and one that stops within those 10 trials never searched at all. Sobol points spread over
the space from the first few; each study gets its own scramble (from its name: the config, space and
metric) unless `--common-draws` asks every optimizer to be tried at the same points."""

from __future__ import annotations

import hashlib
import math
import warnings
from typing import Any

from dltool.study.space import SpaceKey

STARTUP_TRIALS = 10  # quasi-random trials before TPE models the results
EDGE = 0.1  # a best value in the outer tenth of a key's (log) range is at its edge


def sampler_seed(base_seed: int, study_name: str, common_draws: bool) -> int:
    """The seed of a study's Sobol scramble and TPE: its own, or the config's alone with --common-draws."""
    if common_draws:
        return base_seed
    return int(hashlib.sha256(f"{base_seed}:{study_name}".encode()).hexdigest()[:8], 16)


def startup_points(space: list[SpaceKey], count: int, seed: int) -> list[dict[str, Any]]:
    """`count` points of a scrambled Sobol sequence, each mapped onto every key's range (a log range on a
    log scale), as Optuna would sample them (a choice as its text)."""
    from scipy.stats import qmc

    with warnings.catch_warnings():  # a count that is no power of two loses a little balance, not coverage
        warnings.filterwarnings("ignore", "The balance properties of Sobol", UserWarning)
        unit = qmc.Sobol(d=len(space), scramble=True, seed=seed).random(count)
    return [{entry.key: place(entry, float(u)) for entry, u in zip(space, row)} for row in unit]


def place(entry: SpaceKey, u: float) -> Any:
    """The value at fraction `u` of the key's range."""
    if entry.kind == "choice":
        return entry.texts[min(len(entry.texts) - 1, int(u * len(entry.texts)))]
    low, high = entry.bounds
    if entry.kind == "int":
        return min(high, low + int(u * (high - low + 1)))
    if entry.kind == "loguniform":
        value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        value = low + u * (high - low)
    return min(high, max(low, value))  # rounding never leaves the range


def edges(space: list[SpaceKey], params: dict[str, Any]) -> list[str]:
    """The keys whose best value sits in the outer tenth of their range, in words."""
    found = []
    for entry in space:
        if entry.kind == "choice" or entry.key not in params:
            continue
        low, high, value = entry.bounds[0], entry.bounds[1], params[entry.key]
        scale = math.log if entry.kind == "loguniform" else float
        position = (scale(value) - scale(low)) / (scale(high) - scale(low)) if high > low else 0.5
        side = "low" if position < EDGE else "high" if position > 1 - EDGE else None
        if side:
            found.append(f"{entry.key}={value:.6g} is at the {side} edge of {entry.describe()}: widen the space")
    return found
