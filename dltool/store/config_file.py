"""A run's saved config read back: validated by the schema (show, plot, studies), or only the card
`dltool runs` lists for runs whose status.json predates it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.config import Config
from dltool.errors import UsageError
from dltool.store.records import first_problem

MAX_LEGACY_CONFIG_BYTES = 1 << 16  # a saved config is under 2 KB


def load_saved_config(path: Path) -> tuple[Config | None, str | None]:
    """A stored config, validated by the schema alone (no registries, so no torch), through the same
    bounded YAML reader as a config file: (config, None), or (None, what is wrong with the file)."""
    from pydantic import ValidationError

    from dltool.config import read_yaml

    name = path.name
    if not path.is_file():
        return None, f"{name} is missing"
    try:
        return Config.model_validate(read_yaml(path)), None
    except UsageError as exc:  # the message names the file's path: a run's files are named by their names
        message = str(exc).replace(str(path), name)
        return None, message if message.startswith(name) else f"{name}: {message}"
    except ValidationError as exc:
        return None, f"{name} is not a valid config ({first_problem(exc)})"
    except RecursionError:
        return None, f"{name} is nested too deeply to be a config"


def legacy_card(path: Path) -> dict:
    """{'model': {name, impl}, 'optimizer': {name, impl}} from a saved config, the strings only. libyaml's
    loader where PyYAML has it (`dltool runs` reads one per such run; the pure-Python parser takes 3 ms
    each); a config that cannot be read gives empty sections."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = None
        if path.stat().st_size <= MAX_LEGACY_CONFIG_BYTES:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, ValueError, RecursionError, yaml.YAMLError):  # ValueError: not UTF-8
        raw = None
    raw = raw if isinstance(raw, dict) else {}
    return {key: card_of(raw.get(key)) for key in ("model", "optimizer")}


def card_of(section: Any) -> dict:
    if not isinstance(section, dict):
        return {}
    return {key: section[key] for key in ("name", "impl") if isinstance(section.get(key), str)}
