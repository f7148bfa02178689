"""The config schema, YAML loading, --set overrides and error messages that name the file and key.

Sections that name a registry entry (model, data, optimizer, schedule) take the common keys below
plus the keys of the entry's own `options` model; both are validated, with the defaults of both
filled in, before anything runs.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dltool.errors import UsageError, did_you_mean
from dltool.registry import DATASETS, MODELS, OPTIMIZERS, SCHEDULES, Registry

STRICT = dict(strict=True, allow_inf_nan=False)
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", **STRICT)


class NamedSection(BaseModel):
    """A section whose `name` picks a registry entry; the entry's options arrive as extra keys."""

    model_config = ConfigDict(extra="allow", **STRICT)

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ModelSection(NamedSection):
    name: str = "linreg"
    impl: Literal["scratch", "torch"] = "torch"
    sync_bn: bool = False  # several processes: BatchNorm statistics over the global batch


class DataSection(NamedSection):
    name: str = "synthetic_linreg"
    batch_size: int = Field(256, gt=0)
    resize: int | None = Field(None, gt=0)
    train_size: int | None = Field(None, gt=0)
    test_size: int | None = Field(None, gt=0)
    root: str | None = None


class OptimizerSection(NamedSection):
    name: str = "sgd"
    impl: Literal["scratch", "torch"] = "scratch"


class ScheduleSection(NamedSection):
    name: str = "constant"


class TrainSection(Section):
    epochs: int = Field(10, gt=0)
    eval_every_examples: int | None = Field(None, gt=0)
    checkpoint_every_steps: int | None = Field(None, gt=0)
    tensorboard: bool = False


class Config(Section):
    name: str | None = None
    seed: int = Field(0, ge=0)
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    model: ModelSection = ModelSection()
    data: DataSection = DataSection()
    optimizer: OptimizerSection = OptimizerSection()
    schedule: ScheduleSection = ScheduleSection()
    train: TrainSection = TrainSection()

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not DEVICE_PATTERN.match(value):
            raise ValueError("expected auto, cpu, cuda, cuda:N or mps")
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


class YamlLoader(yaml.SafeLoader):
    """yaml.safe_load's loader, but '1e-3' is a float (YAML 1.1 wants '1.0e-3', which nobody writes)
    and a key written twice in one mapping is an error (PyYAML would silently keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (it appears twice in one mapping)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def safe_load(text: str):
    return yaml.load(text, Loader=YamlLoader)  # a SafeLoader subclass: no python tags, nothing executed


def load_registries() -> None:
    """Fill the registries: their modules register entries when imported. Imported here, late, because
    they import torch, and the schema alone (the readers of stored runs) must not."""
    import dltool.data  # noqa: F401
    import dltool.models  # noqa: F401
    import dltool.optim  # noqa: F401


NAMED_SECTIONS: dict[str, Registry] = {
    "model": MODELS,
    "data": DATASETS,
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
}


# ---------------------------------------------------------------- loading


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file, or a UsageError that says what is wrong and where."""
    if not path.exists():
        raise UsageError(f"config file '{path}' not found; give the path of a YAML file (see configs/)")
    if not path.is_file():
        raise UsageError(f"config '{path}' is not a file; give the path of a YAML file (see configs/)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (it is not UTF-8); a config is a YAML text file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        raw = safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        line = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        if "duplicate key" in (exc.problem or ""):
            raise UsageError(f"{path}{line}: {exc.problem}; keep one") from None
        raise UsageError(
            f"{path}{line}: YAML tag not allowed ({exc.problem}); configs hold plain values only"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"{path}:{where}: YAML syntax error: {problem}") from None
    if raw is None:
        raise UsageError(f"{path}: the file is empty; a config is a YAML mapping such as 'model: {{name: mlp}}'")
    if not isinstance(raw, dict):
        raise UsageError(
            f"{path}: expected a YAML mapping of sections (model:, data:, ...), got a {type(raw).__name__}"
        )
    return raw


def parse_override(text: str) -> tuple[list[str], Any]:
    """`optimizer.lr=0.01` -> (['optimizer', 'lr'], 0.01); the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set '{text}': expected KEY=VALUE, e.g. --set optimizer.lr=0.01")
    path = key.strip().split(".")
    if any(not part for part in path):
        raise UsageError(f"--set '{text}': '{key}' is not a dotted key such as optimizer.lr")
    try:
        parsed = safe_load(value) if value.strip() else None
    except yaml.constructor.ConstructorError as exc:
        raise UsageError(f"--set '{text}': {exc.problem}; values are plain YAML (no tags)") from None
    except yaml.YAMLError:
        parsed = value  # not YAML: take it as a string and let the schema judge it
    return path, parsed


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    merged = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        node = merged
        for depth, part in enumerate(path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(path[: depth + 1])
                raise UsageError(f"--set '{text}': '{where}' is a value, not a section with keys")
            node = child
        node[path[-1]] = value
    return merged


def load_config(path: Path | str | None, overrides: list[str] = (), base: dict | None = None) -> Config:
    """Read, override and validate a config; every problem becomes one UsageError."""
    source = str(path) if path is not None else "default config"
    raw = read_yaml(Path(path)) if path is not None else copy.deepcopy(base or {})
    override_keys = {".".join(parse_override(text)[0]): text for text in overrides}
    merged = apply_overrides(raw, list(overrides))
    return validate(merged, source, override_keys)


def validate(raw: dict[str, Any], source: str, override_keys: dict[str, str] | None = None) -> Config:
    override_keys = override_keys or {}
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(format_errors(exc, source, override_keys, Config)) from None
    load_registries()
    for key, registry in NAMED_SECTIONS.items():
        section = getattr(config, key)
        try:
            entry = registry.get(section.name)
        except UsageError as exc:
            where = _where(f"{key}.name", source, override_keys)
            raise UsageError(f"{where}: {exc}") from None
        try:
            options = entry.options.model_validate(section.options)
        except ValidationError as exc:
            raise UsageError(format_errors(exc, source, override_keys, entry.options, prefix=key)) from None
        common = section.model_dump(exclude=set(section.options))
        setattr(config, key, type(section).model_validate({**common, **options.model_dump()}))
    check_model_fits_data(config, source)
    return config


def check_model_fits_data(config: Config, source: str) -> None:
    model_task = MODELS.get(config.model.name).traits.task
    data_task = DATASETS.get(config.data.name).traits.task
    if model_task != data_task:
        fitting = [name for name in MODELS.names() if MODELS.get(name).traits.task == data_task]
        raise UsageError(
            f"{source}: model '{config.model.name}' is a {model_task} model but dataset '{config.data.name}' "
            f"is a {data_task} dataset; use a {data_task} model ({', '.join(fitting)}) or another dataset"
        )


# ---------------------------------------------------------------- messages


def _where(key: str, source: str, override_keys: dict[str, str]) -> str:
    """Blame the --set that wrote this key (or a key below it), else the file."""
    for written, text in override_keys.items():
        if written == key or written.startswith(key + "."):
            return f"--set {text}"
    return f"{source}: {key}"


def _valid_keys(model_cls: type[BaseModel], loc: tuple) -> list[str]:
    """The keys a schema accepts at a location (its parent's fields)."""
    cls = model_cls
    for part in loc[:-1]:
        field = cls.model_fields.get(str(part)) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        cls = annotation
    return list(cls.model_fields)


def format_errors(
    exc: ValidationError,
    source: str,
    override_keys: dict[str, str],
    model_cls: type[BaseModel],
    prefix: str | None = None,
) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = ".".join(str(part) for part in ((prefix,) if prefix else ()) + loc)
        where = _where(key, source, override_keys)
        if error["type"] == "extra_forbidden":
            valid = _valid_keys(model_cls, loc)
            if prefix in NAMED_SECTIONS:
                common = type(getattr(Config(), prefix)).model_fields
                valid = sorted(set(valid) | set(common))
            name = str(loc[-1])
            hint = did_you_mean(name, valid)
            lines.append(f"{where}: unknown key{hint}; valid keys here: {', '.join(valid)}")
        elif error["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            got = error.get("input")
            message = error["msg"].replace("Value error, ", "")
            hint = ""
            if error["type"] == "literal_error" and isinstance(got, str):
                choices = re.findall(r"'([^']*)'", message)
                hint = did_you_mean(got, choices)
            lines.append(f"{where}: {message} (got {got!r}){hint}")
    return "\n".join(lines)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
