"""Name -> builder registries with did-you-mean: models, optimizers, datasets and schedules register here.

Each entry carries a pydantic `options` model: the entry-specific config keys and their defaults, so
a config section is validated against the entry it names and defaults live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from dltool.errors import UsageError, did_you_mean


class Options(BaseModel):
    """Base of every entry's options: strict types, no unknown keys, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Entry:
    name: str
    builder: Callable[..., Any]
    options: type[Options] = Options
    meta: dict[str, Any] = field(default_factory=dict)


class Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str | None = None, *, options: type[Options] = Options, **meta: Any):
        def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
            key = name or builder.__name__
            if key in self._entries:
                raise ValueError(f"{self.kind} '{key}' is registered twice")
            self._entries[key] = Entry(key, builder, options, meta)
            return builder

        return decorate

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(self.names())
            raise UsageError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self.names())}; valid {self.kind}s: {valid}"
            ) from None


MODELS = Registry("model")
OPTIMIZERS = Registry("optimizer")
DATASETS = Registry("dataset")
SCHEDULES = Registry("schedule")


def load_all() -> None:
    """Import the modules whose decorators fill the registries (they import torch)."""
    import dltool.data  # noqa: F401
    import dltool.models  # noqa: F401
    import dltool.optim  # noqa: F401
