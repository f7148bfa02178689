"""`--grid KEY=V1,V2,...`: a swept config key and its values, each value read as YAML.

Commas inside brackets and braces belong to the value, so `--grid model.hidden=[256],[512,256]` is two
values, [256] and [512, 256]. A key is checked against the schema when the members are validated; the
values here are only parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from dltool.config import Config, Override, load_registries
from dltool.errors import UsageError, excerpt
from dltool.registry import OPTIMIZERS
from dltool.safe_yaml import YamlBoundError, safe_load

MAX_VALUES = 100  # values of one key: each is a member (times the seeds, times the other keys)
CLOSING = {"[": "]", "{": "}", "(": ")"}


@dataclass(frozen=True)
class GridKey:
    key: str  # dotted: model.hidden
    texts: tuple[str, ...]  # each value as given: [512,256]
    values: tuple[Any, ...]  # each value as YAML read it: [512, 256]

    def override(self, index: int) -> Override:
        """The override that sets this key to its index-th value; messages blame it as '--grid KEY=VALUE'."""
        return Override(tuple(self.key.split(".")), self.values[index], f"--grid {self.key}={self.texts[index]}")


def split_values(text: str) -> list[str]:
    """'1,[2,3],{a: 4}' -> ['1', '[2,3]', '{a: 4}']: split at the commas outside brackets and quotes."""
    parts, depth, quote, current = [], [], None, []
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in CLOSING:
            depth.append(CLOSING[char])
        elif depth and char == depth[-1]:
            depth.pop()
        elif char == "," and not depth:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    if depth or quote:
        raise ValueError(f"an unclosed {quote or 'bracket'}")
    return [part.strip() for part in parts]


def parse_grid(text: str) -> GridKey:
    """'optimizer.lr=0.01,0.1' -> GridKey('optimizer.lr', ('0.01', '0.1'), (0.01, 0.1))."""
    shown = excerpt(text)
    key, sep, values_text = text.partition("=")
    key = key.strip()
    example = "e.g. --grid optimizer.lr=0.01,0.1 or --grid model.hidden=[256],[512,256]"
    if not sep or not key or not values_text.strip():
        raise UsageError(f"--grid '{shown}': expected KEY=V1,V2,...; {example}")
    if any(not part for part in key.split(".")) or len(key.split(".")) > 2:
        raise UsageError(f"--grid '{shown}': '{excerpt(key)}' is not a dotted config key such as optimizer.lr")
    try:
        texts, values = parse_values(values_text)
    except ValueError as exc:
        raise UsageError(f"--grid '{shown}': {exc}; {example}") from None
    if len({same_value(value) for value in values}) < len(values):
        raise UsageError(f"--grid '{shown}' repeats a value (1 and 1.0 are one number); give each value once")
    return GridKey(key, tuple(texts), tuple(values))


def same_value(value: Any) -> str:
    """What makes two grid values one member: the same number however written (1, 1.0, 1e0), else the
    same YAML value."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def parse_values(text: str) -> tuple[list[str], list[Any]]:
    """'0.1,[256]' -> (['0.1', '[256]'], [0.1, [256]]); a ValueError says what is wrong with the text."""
    texts = split_values(text)
    if any(not part for part in texts):
        raise ValueError("an empty value (two commas, or one at an end)")
    if len(texts) > MAX_VALUES:
        raise ValueError(f"{len(texts)} values; give at most {MAX_VALUES}")
    return texts, [_read_value(part) for part in texts]


def _read_value(text: str) -> Any:
    try:
        return safe_load(text)
    except (YamlBoundError, yaml.constructor.ConstructorError) as exc:  # too big or deep; a tag
        raise ValueError(f"value '{excerpt(text)}' is not plain YAML ({excerpt(str(exc), 80)})") from None
    except yaml.YAMLError:
        return text  # not YAML: a string, which the schema judges


def check_keys(option: str, keys: list[str]) -> None:
    """Each --grid or --space key once, and never the seed (a sweep has --seeds; a seed is no hyperparameter)."""
    repeated = next((key for key in keys if keys.count(key) > 1), None)
    if repeated:
        raise UsageError(f"{option} {repeated} is given twice; give each key once, with all its values")
    if "seed" in keys:
        raise UsageError(f"{option} seed: the seed is not a key to vary; use --seeds N")


def check_optimizer_key(option: str, key: str, config: dict, varied: list[str]) -> None:
    """A swept or tuned optimizer key the config's optimizer does not take is refused, naming those that do
    (`optimizer.momentum` on sgd); where optimizer.name itself varies, each member's validation judges."""
    parts = key.split(".")
    if parts[0] != "optimizer" or len(parts) != 2 or "optimizer.name" in varied:
        return
    load_registries()
    name = config["optimizer"]["name"]
    common = Config.model_fields["optimizer"].annotation.model_fields
    if parts[1] in common or parts[1] in OPTIMIZERS.get(name).options.model_fields:
        return
    takers = [other for other in OPTIMIZERS.names() if parts[1] in OPTIMIZERS.get(other).options.model_fields]
    if takers:  # else a typo: the schema's message, with its did-you-mean, says it when the members are validated
        raise UsageError(
            f"{option} {key}: the config's optimizer '{name}' has no hyperparameter '{parts[1]}'; "
            f"optimizers that take it: {', '.join(takers)} (--set optimizer.name=...)"
        )
