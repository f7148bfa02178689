"""The config schema, loading (YAML read by dltool.safe_yaml; bounds in dltool.bounds), --set overrides (each
parsed once, into an `Override` that writes its value and is named when that value is wrong) and error messages.

Sections that name a registry entry (model, data, optimizer, schedule) take the common keys below plus
the keys of the entry's own `options` model. Each value is validated once: the common keys by the
schema, then the entry's keys by its options model, whose values (defaults filled in) are kept.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dltool.bounds import MAX_THREADS, BatchSize, Count, Epochs, Examples, ImageSide, Seed, leaves_training_examples
from dltool.errors import UsageError, did_you_mean, excerpt
from dltool.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES, Registry, check_model_fits_data
from dltool.safe_yaml import MAX_DEPTH, YamlBoundError, read_yaml, safe_load, yaml_message

STRICT = dict(strict=True, allow_inf_nan=False)  # no coercion ('1' is not 1), no NaN or infinity
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", **STRICT)


class NamedSection(BaseModel):
    """A section whose `name` picks a registry entry; the entry's options arrive as extra keys."""

    model_config = ConfigDict(extra="allow", **STRICT)

    @property
    def options(self) -> dict[str, Any]:
        """The entry's keys (a copy): as written until `resolve`, then validated, the entry's defaults filled in."""
        return dict(self.model_extra or {})

    def resolve(self, options: BaseModel) -> None:
        """Keep the entry's validated options (its field order, defaults included) in place of the keys as written."""
        self.__pydantic_extra__ = options.model_dump()


NAME = dict(max_length=64)  # a registry entry's name: a short word (a message shows what it got)


class ModelSection(NamedSection):
    name: str = Field("linreg", **NAME)
    impl: Literal["scratch", "torch"] = "torch"
    sync_bn: bool = False  # several processes: BatchNorm statistics over the global batch


class DataSection(NamedSection):
    name: str = Field("synthetic_linreg", **NAME)
    batch_size: BatchSize = 256
    resize: ImageSide | None = None
    train_size: Examples | None = None
    test_size: Examples | None = None
    validation: Examples | None = None  # the last N training examples, after train_size (Fashion-MNIST)
    root: str | None = Field(None, max_length=4096)  # PATH_MAX

    _leaves_training_examples = model_validator(mode="after")(leaves_training_examples)


class OptimizerSection(NamedSection):
    name: str = Field("sgd", **NAME)
    impl: Literal["scratch", "torch"] = "scratch"


class ScheduleSection(NamedSection):
    name: str = Field("constant", **NAME)


class TrainSection(Section):
    epochs: Epochs = 10
    eval_every_examples: Count | None = None
    checkpoint_every_steps: Count | None = None
    tensorboard: bool = False


class PlotsSection(Section):
    formats: list[Literal["png", "svg", "pdf"]] = Field(["png"], min_length=1)  # of the run's pictures; SVG is slow

    @field_validator("formats")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) < len(value):
            raise ValueError("each format at most once")
        return value


class Config(Section):
    name: str | None = None
    seed: Seed = 0
    device: str = "auto"
    threads: str | int = "auto"  # torch intra-op threads; auto: a share of the cores (dltool.train.threads)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    model: ModelSection = ModelSection()
    data: DataSection = DataSection()
    optimizer: OptimizerSection = OptimizerSection()
    schedule: ScheduleSection = ScheduleSection()
    train: TrainSection = TrainSection()
    plots: PlotsSection = PlotsSection()

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not DEVICE_PATTERN.match(value):
            raise ValueError("expected auto, cpu, cuda, cuda:N or mps")
        return value

    @field_validator("threads", mode="before")
    @classmethod
    def _thread_count(cls, value: object) -> object:
        if value != "auto" and not (type(value) is int and 1 <= value <= MAX_THREADS):
            raise ValueError(f"expected auto or a number of threads from 1 to {MAX_THREADS:,}")
        return value

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", value):
            raise ValueError("expected 1-40 letters, digits, '_', '.' or '-' (it goes into the run id)")
        return value

    @property
    def label(self) -> str:
        return self.name or self.model.name

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_registries() -> None:
    """Fill the registries: their modules register entries when imported. Imported here, late, because
    they import torch, and the schema alone (the readers of stored runs) must not."""
    import dltool.data  # noqa: F401
    import dltool.models  # noqa: F401
    import dltool.optim  # noqa: F401


NAMED_SECTIONS: dict[str, Registry] = dict(model=MODELS, data=DATASETS, optimizer=OPTIMIZERS, schedule=SCHEDULES)


class Override(NamedTuple):
    """One --set, parsed once: where it writes, the value (read as YAML) and the text as given, to blame."""

    path: tuple[str, ...]
    value: Any
    text: str

    @property
    def key(self) -> str:
        return ".".join(self.path)


def parse_override(text: str) -> Override:
    """`optimizer.lr=0.01` -> Override(('optimizer', 'lr'), 0.01, 'optimizer.lr=0.01')."""
    key, sep, value = text.partition("=")
    shown = excerpt(text)
    if not sep or not key.strip():
        raise UsageError(f"--set '{shown}': expected KEY=VALUE, e.g. --set optimizer.lr=0.01")
    path = tuple(key.strip().split("."))
    if any(not part for part in path):
        raise UsageError(f"--set '{shown}': '{excerpt(key)}' is not a dotted key such as optimizer.lr")
    if len(path) > MAX_DEPTH:
        raise UsageError(f"--set '{shown}': a key of {len(path)} parts; config keys are SECTION.KEY")
    try:
        parsed = safe_load(value) if value.strip() else None
    except yaml.constructor.ConstructorError as exc:
        if "constructor for the tag" not in (exc.problem or ""):
            raise UsageError(yaml_message(f"--set '{shown}'", exc, value)) from None
        raise UsageError(f"--set '{shown}': {excerpt(exc.problem, 200)}; values are plain YAML (no tags)") from None
    except YamlBoundError as exc:
        raise UsageError(yaml_message(f"--set '{shown}'", exc, value)) from None
    except yaml.YAMLError:
        parsed = value  # not YAML: take it as a string and let the schema judge it
    return Override(path, parsed, text)


def parse_overrides(texts: Iterable[str]) -> tuple[Override, ...]:
    return tuple(parse_override(text) for text in texts)


def apply_overrides(raw: dict[str, Any], overrides: Iterable[Override]) -> dict[str, Any]:
    """A copy of `raw` with each override's value written at its dotted key (sections made on the way)."""
    merged = copy.deepcopy(raw)
    for override in overrides:
        node = merged
        for depth, part in enumerate(override.path[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                where = ".".join(override.path[: depth + 1])
                raise UsageError(
                    f"--set '{excerpt(override.text)}': '{excerpt(where)}' is a value, not a section with keys"
                )
        node[override.path[-1]] = copy.deepcopy(override.value)  # one parsed override may serve many configs
    return merged


def load_config(path: Path | str | None, overrides: Sequence[str] = (), base: dict | None = None) -> Config:
    """Read, override and validate a config; every problem becomes one UsageError."""
    source = str(path) if path is not None else "default config"
    raw = read_yaml(Path(path)) if path is not None else (base or {})
    parsed = parse_overrides(overrides)
    return validate(apply_overrides(raw, parsed), source, parsed)


def validate(raw: dict[str, Any], source: str, overrides: Sequence[Override] = ()) -> Config:
    """The Config of a merged mapping, each value validated once; `overrides` (the --sets merged into it)
    are named in the messages about the keys they wrote."""
    blame = Blame(source, {override.key: override.text for override in overrides})
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(format_errors(exc, blame, Config)) from None
    load_registries()
    for key, registry in NAMED_SECTIONS.items():
        resolve_section(getattr(config, key), key, registry, blame)
    check_model_fits_data(config.model.name, config.data.name, source)
    return config


def resolve_section(section: NamedSection, key: str, registry: Registry, blame: Blame) -> None:
    """Validate a section's own keys against the options of the entry it names, and keep them."""
    try:
        entry = registry.get(section.name)
    except UsageError as exc:
        raise UsageError(f"{blame.where(f'{key}.name')}: {exc}") from None
    try:
        section.resolve(entry.options.model_validate(section.options))
    except ValidationError as exc:
        raise UsageError(format_errors(exc, blame, entry.options, prefix=key)) from None


@dataclass(frozen=True)
class Blame:
    """Names where a key's value came from: the --set that wrote it (or a key below it), else the file."""

    source: str
    overridden: dict[str, str]  # dotted key -> the text of its last --set

    def where(self, key: str) -> str:
        sets = [text for written, text in self.overridden.items() if _related(written, key)]
        shown = (excerpt(sets[0]) if sets[0].startswith("--") else f"--set {excerpt(sets[0])}") if sets else None
        return shown or f"{self.source}: {excerpt(key)}"  # a sweep's '--grid KEY=VALUE' names its own option


def _related(written: str, key: str) -> bool:
    """A --set that wrote `written` wrote `key` too: the same key, a key below it or the section above it."""
    return written == key or written.startswith(f"{key}.") or key.startswith(f"{written}.")


def _valid_keys(model_cls: type[BaseModel], loc: tuple, prefix: str | None) -> list[str]:
    """The keys a schema accepts where an unknown key was found: a section's (the Config's sections are
    one level deep, the entries' options flat); in a named section, its common keys too."""
    valid = list((model_cls.model_fields[loc[0]].annotation if len(loc) > 1 else model_cls).model_fields)
    if prefix in NAMED_SECTIONS:
        return sorted(set(valid) | set(Config.model_fields[prefix].annotation.model_fields))
    return valid


def _owners(section: str | None, key: str) -> str:
    """' (optimizer 'momentum' takes it: --set optimizer.name=momentum)': the key is another entry's."""
    registry = NAMED_SECTIONS.get(section)
    owners = [name for name in registry.names() if key in registry.get(name).options.model_fields] if registry else []
    which = f"'{owners[0]}' takes it" if len(owners) == 1 else f"{', '.join(owners)} take it"
    return f" ({section} {which}: --set {section}.name={owners[0]})" if owners else ""


def format_errors(exc: ValidationError, blame: Blame, model_cls: type[BaseModel], prefix: str | None = None) -> str:
    """One line per error: where (the --set or the file and dotted key), what was expected, what was got."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = blame.where(".".join(str(part) for part in ((prefix,) if prefix else ()) + loc))
        if error["type"] == "extra_forbidden":
            valid = _valid_keys(model_cls, loc, prefix)
            hint = did_you_mean(str(loc[-1]), valid) or _owners(prefix, str(loc[-1]))
            lines.append(f"{where}: unknown key{hint}; valid keys here: {', '.join(valid)}")
        elif error["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            got = error.get("input")
            message = error["msg"].replace("Value error, ", "")
            hint = ""
            if error["type"] == "literal_error" and isinstance(got, str):
                hint = did_you_mean(got, re.findall(r"'([^']*)'", message))
            lines.append(f"{where}: {message} (got {excerpt(repr(got))}){hint}")
    return "\n".join(lines)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
