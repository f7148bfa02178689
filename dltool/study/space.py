"""`--space KEY=DIST`: a tuned config key and where its values come from, as an Optuna distribution.

Forms: loguniform(a,b), uniform(a,b), int(a,b) (bounds included) and choice(v1,v2,...), whose values are
YAML (`choice([256],[512,256])`). Optuna's categorical values must be plain scalars, so a choice is
sampled as the text of its value and read back as the value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dltool.config import Override
from dltool.errors import UsageError, did_you_mean, excerpt
from dltool.study.grid import parse_values

FORMS = "loguniform(a,b), uniform(a,b), int(a,b) or choice(v1,v2,...)"
EXAMPLE = "e.g. --space optimizer.lr='loguniform(1e-3,1)' --space model.hidden='choice([256],[512,256])'"
PATTERN = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$", re.DOTALL)


@dataclass(frozen=True)
class SpaceKey:
    key: str  # dotted: optimizer.lr
    kind: str  # loguniform, uniform, int or choice
    bounds: tuple[Any, ...]  # (low, high), or the choices' values
    texts: tuple[str, ...]  # the choices as given (what Optuna samples); the bounds' texts otherwise
    given: str  # the whole option, for messages

    def distribution(self):
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(self.texts)
        if self.kind == "int":
            return IntDistribution(*self.bounds)
        return FloatDistribution(*self.bounds, log=self.kind == "loguniform")

    def value(self, sampled: Any) -> Any:
        """The config value of what Optuna sampled."""
        return self.bounds[self.texts.index(sampled)] if self.kind == "choice" else sampled

    def sampled(self, value: Any) -> Any:
        """What Optuna samples for a config value (value's inverse)."""
        return self.texts[list(self.bounds).index(value)] if self.kind == "choice" else value

    def override(self, value: Any) -> Override:
        return Override(tuple(self.key.split(".")), value, f"--space {self.given}")

    def corners(self) -> tuple[Any, ...]:
        """The values a check of the config tries: both bounds, or every choice."""
        return self.bounds

    def describe(self) -> str:
        return f"{self.kind}({', '.join(self.texts)})"


def parse_space(text: str, option: str = "--space") -> SpaceKey:
    """'optimizer.lr=loguniform(1e-3,1)' -> SpaceKey('optimizer.lr', 'loguniform', (0.001, 1.0), ...)."""
    shown = excerpt(text)
    key, sep, dist = text.partition("=")
    key = key.strip()
    if not sep or not key or not dist.strip():
        raise UsageError(f"{option} '{shown}': expected KEY=DIST with DIST one of {FORMS}; {EXAMPLE}")
    if any(not part for part in key.split(".")) or len(key.split(".")) > 2:
        raise UsageError(f"{option} '{shown}': '{excerpt(key)}' is not a dotted config key such as optimizer.lr")
    match = PATTERN.match(dist)
    kinds = ["loguniform", "uniform", "int", "choice"]
    if match is None or match.group(1) not in kinds:
        hint = did_you_mean(match.group(1), kinds) if match else ""
        raise UsageError(f"{option} '{shown}': '{excerpt(dist)}' is not a distribution{hint}; use {FORMS}")
    kind = match.group(1)
    try:
        texts, values = parse_values(match.group(2))
    except ValueError as exc:
        raise UsageError(f"{option} '{shown}': {exc}; use {FORMS}") from None
    if kind == "choice":
        return _choice(f"{option} '{shown}'", key, texts, values, text)
    return SpaceKey(key, kind, _bounds(f"{option} '{shown}'", kind, values), tuple(texts), text)


def _choice(where: str, key: str, texts: list[str], values: list[Any], given: str) -> SpaceKey:
    if len(values) < 2:
        raise UsageError(f"{where}: choice() needs at least two values, e.g. choice(64,128)")
    if len({repr(value) for value in values}) < len(values):
        raise UsageError(f"{where}: choice() repeats a value")
    return SpaceKey(key, "choice", tuple(values), tuple(texts), given)


def _bounds(where: str, kind: str, values: list[Any]) -> tuple[Any, Any]:
    if len(values) != 2:
        raise UsageError(f"{where}: {kind}() takes two bounds, {kind}(low,high); got {len(values)} values")
    wanted = int if kind == "int" else (int, float)
    if not all(isinstance(v, wanted) and not isinstance(v, bool) for v in values):
        what = "whole numbers" if kind == "int" else "numbers"
        raise UsageError(f"{where}: {kind}() bounds must be {what}, e.g. {kind}(1,4)")
    low, high = (float(v) for v in values) if kind != "int" else values
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise UsageError(f"{where}: the bounds must be finite, low below high")
    if kind == "loguniform" and low <= 0:
        raise UsageError(f"{where}: loguniform() bounds must be positive (a log scale)")
    return low, high
