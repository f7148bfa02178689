"""Legends and titles for run pictures: what differs between runs, in a few words.

Each config is flattened to dotted keys; only the keys whose values differ label the runs
(e.g. `adam · scratch · lr=0.01`), names as bare values and the rest as key=value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dltool.config import Config
from dltool.store.run import RunSnapshot
from dltool.text import flatten, format_value

# Config keys that never explain a difference between runs (where data lives, bookkeeping, picture formats).
IGNORED_KEYS = frozenset(
    {"data.root", "data.download", "train.tensorboard", "train.checkpoint_every_steps", "plots.formats"}
)
# Shown only when nothing else differs: every run has its own name, and seeds are what repeats vary.
MINOR_KEYS = ("name", "seed")
# Shown as bare values ("adam · scratch"), in this order, before the key=value parts.
BARE_KEYS = ("model.name", "data.name", "optimizer.name", "model.impl", "optimizer.impl", "schedule.name")


def flat_config(snapshot: RunSnapshot) -> dict[str, Any]:
    """The run's config as dotted keys; empty for a run whose config.yaml is missing or damaged."""
    return flatten(snapshot.config.to_dict()) if snapshot.config is not None else {}


def differing_keys(flats: list[dict[str, Any]]) -> list[str]:
    """Dotted keys whose values differ between the runs, in label order.

    A key only some runs have (optimizer.momentum) belongs to a named section; it counts when runs
    with the same section name disagree on it (two momentum runs), not merely because an sgd run
    lacks it: the optimizer's name already says that.
    """
    keys = list(dict.fromkeys(key for flat in flats for key in flat))
    found = []
    for key in keys:
        if key in IGNORED_KEYS or len({repr(flat.get(key, ...)) for flat in flats}) == 1:
            continue
        if all(key in flat for flat in flats):
            found.append(key)
            continue
        section_name = key.rsplit(".", 1)[0] + ".name" if "." in key else None
        groups: dict[str, set[str]] = {}
        for flat in flats:
            if key in flat:
                groups.setdefault(repr(flat.get(section_name)), set()).add(repr(flat[key]))
        if any(len(values) > 1 for values in groups.values()):
            found.append(key)
    major = [key for key in found if key not in MINOR_KEYS]
    keys = major or found
    bare = [key for key in BARE_KEYS if key in keys]
    return bare + [key for key in keys if key not in bare]


def short_names(keys: list[str]) -> dict[str, str]:
    """The shortest dotted suffix that tells each key apart: optimizer.lr -> lr, but model.impl stays."""
    names = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            suffix = ".".join(parts[-n:])
            if not any(other != key and (other == suffix or other.endswith("." + suffix)) for other in keys):
                break
        names[key] = suffix
    return names


def run_labels(snapshots: Sequence[RunSnapshot]) -> list[str]:
    """Legend labels naming what differs between the runs, e.g. 'adam · scratch · lr=0.01'.

    Optimizer, model, data and schedule names and impls are bare values, everything else key=value;
    with nothing different (or one run) the run ids are used, and labels that would collide get the
    run id's last part appended.
    """
    flats = [flat_config(snapshot) for snapshot in snapshots]
    keys = differing_keys(flats) if len(snapshots) > 1 else []
    names = short_names(keys)
    # An impl is a bare value when it cannot be misread: the optimizer's alone, or both when every
    # run uses one impl for model and optimizer (then shown once); else 'model.impl=torch'.
    impls = [key for key in ("model.impl", "optimizer.impl") if key in keys]
    together = len(impls) == 2 and all(flat.get(impls[0]) == flat.get(impls[1]) for flat in flats)
    bare_keys = set(BARE_KEYS) - {"model.impl", "optimizer.impl"}
    if together or impls == ["optimizer.impl"]:
        bare_keys.add(impls[-1])
    names.update({key: key for key in impls})
    labels = []
    for snapshot, flat in zip(snapshots, flats):
        parts = []
        for key in keys:
            if key not in flat or (together and key == "model.impl"):
                continue
            value = format_value(flat[key])
            parts.append(value if key in bare_keys else f"{names[key]}={value}")
        labels.append(" · ".join(parts) or snapshot.id)
    if len(set(labels)) < len(labels):  # the same config twice: tell them apart by the id's last part
        tails = [snapshot.id.rsplit("-", 1)[-1] for snapshot in snapshots]
        labels = [f"{label} #{tail}" if labels.count(label) > 1 else label for label, tail in zip(labels, tails)]
    return labels


def describe(config: Config | None) -> str:
    """One line naming a run: model (impl) · optimizer (impl), lr · schedule · data; '' without a config."""
    if config is None:
        return ""
    lr = format_value(config.optimizer.options.get("lr"))
    parts = [
        f"{config.model.name} ({config.model.impl})",
        f"{config.optimizer.name} ({config.optimizer.impl}), lr {lr}",
    ]
    if config.schedule.name != "constant":
        parts.append(f"{config.schedule.name} schedule")
    parts.append(config.data.name)
    return " · ".join(parts)


def run_title(snapshot: RunSnapshot, what: str) -> str:
    status = snapshot.shown_status
    line = f"{what}: {describe(snapshot.config) or snapshot.id}"
    return f"{line}\n{snapshot.id}" + ("" if status == "completed" else f" ({status})")


def shared_context(snapshots: Sequence[RunSnapshot]) -> str:
    """What all the runs have in common, for an overlay's title (model, data, optimizer, lr)."""
    flats = [flat_config(snapshot) for snapshot in snapshots]
    parts = []
    for key in ("model.name", "data.name", "optimizer.name", "optimizer.lr"):
        values = {repr(flat.get(key)) for flat in flats}
        if len(values) == 1 and flats[0].get(key) is not None:
            value = format_value(flats[0][key])
            parts.append(f"lr={value}" if key == "optimizer.lr" else value)
    return " · ".join(parts)
