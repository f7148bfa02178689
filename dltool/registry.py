"""Name -> builder registries with did-you-mean: models, optimizers, datasets and schedules register here.

Each entry carries a pydantic `options` model (the entry-specific config keys and their defaults, so a
config section is validated against the entry it names and defaults live in one place) and typed,
frozen `traits`: what the rest of the tool may ask of it, instead of probing objects with getattr.
Importing the modules that register (dltool.data, .models, .optim) is their users' job: they import
torch, and this module must stay light enough for the config schema and the readers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from dltool.errors import UsageError, did_you_mean

Task = Literal["regression", "classification", "objective"]


class Options(BaseModel):
    """Base of every entry's options: strict types, no unknown keys, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


@dataclass(frozen=True)
class ModelTraits:
    task: Task
    conv: bool = False  # convolutional: channels_last lets oneDNN/cuDNN pick their fast kernels
    prefers_bf16: bool = False  # `precision: auto` picks bf16 where the device has it
    # a toy objective (dltool.objectives.Objective): the model is a point whose coordinates every record carries
    objective: Any = None


@dataclass(frozen=True)
class DatasetTraits:
    task: Task
    input_shape: tuple[int, ...] | None = None  # known without loading the data (the layer table needs it)
    num_outputs: int | None = None
    test_split: bool = False  # evaluated on a test set (else on the whole set): tuning needs data.validation
    noise_option: str | None = None  # the option that alone makes it random: at 0 every seed gives the same data
    seeded: bool = False  # drawn from the run's seed: runs with other seeds train on other data


@dataclass(frozen=True)
class OptimizerTraits:
    scratch: type | None = None  # the hand-written class
    torch: Callable[..., Any] | None = None  # the torch.optim builder; None: torch.optim has no such optimizer
    second_order: bool = False  # differentiates the gradient again: backward(create_graph=True), no DDP


@dataclass(frozen=True)
class ScheduleTraits:
    pass


T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    builder: Callable[..., Any]
    options: type[Options]
    traits: T


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str | None = None, *, options: type[Options] = Options, traits: T):
        def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
            key = name or builder.__name__
            if key in self._entries:
                raise ValueError(f"{self.kind} '{key}' is registered twice")
            self._entries[key] = Entry(key, builder, options, traits)
            return builder

        return decorate

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(self.names())
            raise UsageError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self.names())}; valid {self.kind}s: {valid}"
            ) from None


MODELS: Registry[ModelTraits] = Registry("model")
OPTIMIZERS: Registry[OptimizerTraits] = Registry("optimizer")
DATASETS: Registry[DatasetTraits] = Registry("dataset")
SCHEDULES: Registry[ScheduleTraits] = Registry("schedule")


def check_model_fits_data(model: str, data: str, source: str) -> None:
    """A regression model on a classification dataset (or the reverse) is refused, naming the models that fit."""
    model_task, data_task = MODELS.get(model).traits.task, DATASETS.get(data).traits.task
    if model_task != data_task:
        fitting = [name for name in MODELS.names() if MODELS.get(name).traits.task == data_task]
        raise UsageError(
            f"{source}: model '{model}' is a {model_task} model but dataset '{data}' "
            f"is a {data_task} dataset; use a {data_task} model ({', '.join(fitting)}) or another dataset"
        )
