"""What a tuning study tries: a base config, the space of its tuned keys, and how a trial's numbers
become a member's config. Every key is checked at its bounds (or every choice) before anything runs:
an unknown key gets the schema's did-you-mean, a key the optimizer does not take is refused.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.config import Config, apply_overrides, parse_overrides, read_yaml, validate
from dltool.errors import UsageError
from dltool.registry import DATASETS
from dltool.results.points import METRICS
from dltool.study.grid import check_keys, check_optimizer_key
from dltool.study.protocol import MEMBER_THREADS
from dltool.study.space import SpaceKey, parse_space
from dltool.study.startup import STARTUP_TRIALS, sampler_seed
from dltool.study.sweep_plan import config_hash
from dltool.text import format_value

MAX_TRIALS = 10_000


@dataclass(frozen=True)
class TuneRequest:
    config_path: Path
    space: tuple[str, ...]
    trials: int
    metric: str = "loss"
    storage: str | None = None  # None: an SQLite file in the study folder
    prune: bool = True
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class TunePlan:
    source: str
    base: dict[str, Any]  # the config with the --set options
    space: list[SpaceKey]
    trials: int
    metric: str
    prune: bool
    split: str  # what the objective is measured on: valid, or full (the training set: airfoil, toys)
    common_draws: bool = False  # the same quasi-random start as every other study of the config's seed

    @property
    def seed(self) -> int:
        """The seed of its sampler: its own (from its name), or the config's alone with common draws."""
        return sampler_seed(self.base.get("seed", 0), self.study_name, self.common_draws)

    def search_text(self) -> str:
        """How the trials are chosen, in words."""
        if self.trials <= STARTUP_TRIALS:
            return (
                f"{self.trials} trials, within the first {STARTUP_TRIALS}: a quasi-random (scrambled Sobol) search "
                f"over the whole space, not a model-based one (TPE models the results only after {STARTUP_TRIALS})"
            )
        return f"the first {STARTUP_TRIALS} trials quasi-random (scrambled Sobol) over the whole space, then TPE"

    @property
    def direction(self) -> str:
        return "maximize" if METRICS[self.metric][2] else "minimize"

    @property
    def study_name(self) -> str:
        """The Optuna study's name: the same command (config, space, metric) joins one study in a shared storage."""
        space = {entry.key: entry.describe() for entry in self.space}
        return "dltool-" + config_hash({"base": self.base, "space": space, "metric": self.metric})

    def config(self, params: dict[str, Any]) -> Config:
        """A trial's member config: the base with the trial's values (validated: the bounds were checked)."""
        chosen = [entry.override(params[entry.key]) for entry in self.space]
        raw = apply_overrides(self.base, chosen)
        if raw.get("threads", "auto") == "auto":
            raw["threads"] = MEMBER_THREADS  # as a comparison's members: the same numbers whatever --jobs is
        return validate(raw, self.source, chosen)

    def best_config(self, params: dict[str, Any]) -> Config:
        """The best trial's config as a user trains it: the base's own threads setting."""
        chosen = [entry.override(params[entry.key]) for entry in self.space]
        return validate(apply_overrides(self.base, chosen), self.source, chosen)

    def objective_text(self) -> str:
        what = METRICS[self.metric][1]
        if self.split == "valid":
            return f"{what} on the validation split (data.validation); the test set is never used to select"
        return f"{what} on the training set (the loss the notes plot; this problem has no held-out split)"


def plan_tune(request: TuneRequest) -> TunePlan:
    if request.metric not in METRICS:
        raise UsageError(f"--metric '{request.metric}': expected one of {', '.join(METRICS)}")
    if not request.space:
        raise UsageError("tune: give at least one --space KEY=DIST, e.g. --space optimizer.lr='loguniform(1e-3,1)'")
    if not 1 <= request.trials <= MAX_TRIALS:
        raise UsageError(f"--trials {request.trials}: expected 1 to {MAX_TRIALS:,}")
    space = [parse_space(text) for text in request.space]
    check_keys("--space", [entry.key for entry in space])
    source = str(request.config_path)
    overrides = parse_overrides(request.overrides)
    base_config = validate(apply_overrides(read_yaml(request.config_path), overrides), source, overrides)
    for entry in space:
        check_optimizer_key("--space", entry.key, base_config.to_dict(), [other.key for other in space])
    return plan_on(source, base_config, space, request.trials, request.metric, request.prune)


def plan_on(
    source: str, base_config: Config, space: list[SpaceKey], trials: int, metric: str, prune: bool, common: bool = False
) -> TunePlan:
    """The plan of tuning `space` on a validated config; every key is tried at its corners here. `common`:
    the quasi-random start is the config seed's alone, shared with every study of that seed."""
    split = _objective_split(base_config, source, metric)
    plan = TunePlan(source, base_config.to_dict(), space, trials, metric, prune, split, common)
    check_corners(plan, space)
    return plan


MAX_CORNERS = 1024  # corner combinations checked as a whole; a larger space is checked key by key


def check_corners(plan: TunePlan, space: list[SpaceKey]) -> None:
    """Every combination of the keys' corners (both bounds, every choice) is a valid config, or a UsageError
    names the combination: keys constrain each other (a train size and a validation split), so a value
    fine alone may fail beside another, in every trial that draws both. Past MAX_CORNERS combinations,
    each key at its corners with the others at their first."""
    corners = [entry.corners() for entry in space]
    if math.prod(len(values) for values in corners) <= MAX_CORNERS:
        combinations = itertools.product(*corners)
    else:
        firsts = [values[0] for values in corners]
        combinations = (firsts[:i] + [value] + firsts[i + 1 :] for i, values in enumerate(corners) for value in values)
    for combination in combinations:
        params = {entry.key: value for entry, value in zip(space, combination)}
        try:
            plan.config(params)
        except UsageError as exc:
            if len(space) == 1:
                raise
            named = ", ".join(f"{key}={format_value(value)}" for key, value in params.items())
            raise UsageError(f"the space's corner {named} is not a valid config: {exc}") from None


def _objective_split(config: Config, source: str, metric: str) -> str:
    """valid where the data has a test set (so selection never sees it); the training set where it has none."""
    traits = DATASETS.get(config.data.name).traits
    if metric == "acc" and traits.task != "classification":
        raise UsageError(f"--metric acc: {source} trains a regression ({config.data.name}); use loss")
    if traits.test_split and not config.data.validation:
        raise UsageError(
            f"tune: {source} has no validation split, and tuning must not select on the test set; "
            "hold out the last N training examples with --set data.validation=10000"
        )
    return "valid" if config.data.validation else "full"
