"""What a sweep runs: the product of its grids, each point with every seed, as validated train configs.

A member's identity is the hash of its resolved config, so the same point and seed is the same member
whichever command planned it: a sweep run again, or resumed, runs only what it has not completed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.config import Config, apply_overrides, parse_overrides, read_yaml, validate
from dltool.errors import UsageError
from dltool.registry import DATASETS
from dltool.results.points import METRICS
from dltool.store.study import MemberEntry
from dltool.study.grid import GridKey, check_keys, check_optimizer_key, parse_grid
from dltool.study.plan import Member
from dltool.study.protocol import MEMBER_THREADS
from dltool.text import format_value

MAX_MEMBERS = 1000


@dataclass(frozen=True)
class SweepRequest:
    config_path: Path
    grids: tuple[str, ...]
    seeds: int = 1
    metric: str = "loss"
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepPlan:
    source: str
    base: dict[str, Any]  # the config with the --set options, before the grid
    grid: dict[str, list[Any]]  # key -> values, in the order given
    seeds: int
    metric: str
    members: tuple[Member, ...]

    @property
    def key(self) -> str:
        """The plan's identity: the same command plans the same members (and finds its earlier sweep)."""
        return config_hash({"members": [m.entry.key for m in self.members], "metric": self.metric})


def config_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_sweep(request: SweepRequest) -> SweepPlan:
    """Every member's validated config; any bad input is a UsageError before anything runs."""
    if request.metric not in METRICS:
        raise UsageError(f"--metric '{request.metric}': expected one of {', '.join(METRICS)}")
    if not request.grids:
        raise UsageError("sweep: give at least one --grid KEY=V1,V2 (e.g. --grid optimizer.lr=0.01,0.1)")
    grids = [parse_grid(text) for text in request.grids]
    check_keys("--grid", [grid.key for grid in grids])
    source = str(request.config_path)
    overrides = parse_overrides(request.overrides)
    base = validate(apply_overrides(read_yaml(request.config_path), overrides), source, overrides).to_dict()
    for grid in grids:
        check_optimizer_key("--grid", grid.key, base, [other.key for other in grids])
    return plan_from(source, base, grids, request.seeds, request.metric)


def plan_from(source: str, base: dict, grids: list[GridKey], seeds: int, metric: str) -> SweepPlan:
    sizes = [len(grid.values) for grid in grids]
    if math.prod(sizes) * seeds > MAX_MEMBERS:  # counted before the points are made: 100^4 would not fit in memory
        raise UsageError(
            f"sweep: {' × '.join(map(str, sizes))} points × {seeds} seeds is "
            f"{math.prod(sizes) * seeds:,} members, over {MAX_MEMBERS}; give fewer values"
        )
    points = list(itertools.product(*(range(size) for size in sizes)))
    members = [_member(source, base, grids, point, k) for point in points for k in range(seeds)]
    if metric == "acc" and not _classifies(members[0].config):
        raise UsageError(f"--metric acc: {source} trains a regression ({members[0].config.data.name}); use loss")
    grid = {grid.key: list(grid.values) for grid in grids}
    return SweepPlan(source, base, grid, seeds, metric, tuple(members))


def replan(source: str, plan: dict[str, Any], seeds: int) -> SweepPlan:
    """The plan a sweep's study.json keeps, planned again (--resume)."""
    grids = [GridKey(key, tuple(map(str, values)), tuple(values)) for key, values in plan["grid"].items()]
    return plan_from(source, plan["base"], grids, seeds, plan["metric"])


def _classifies(config: Config) -> bool:
    return DATASETS.get(config.data.name).traits.task == "classification"


def _member(source: str, base: dict, grids: list[GridKey], point: tuple[int, ...], seed_offset: int) -> Member:
    chosen = [grid.override(index) for grid, index in zip(grids, point)]
    raw = apply_overrides(base, chosen)
    raw["seed"] = base.get("seed", 0) + seed_offset
    if raw.get("threads", "auto") == "auto":
        raw["threads"] = MEMBER_THREADS  # as a comparison's members: the same numbers whatever --jobs is
    config = validate(raw, source, chosen)
    values = {grid.key: grid.values[index] for grid, index in zip(grids, point)}
    label = " ".join(f"{key}={format_value(value)}" for key, value in values.items())
    options = config.optimizer.options
    entry = MemberEntry(
        label,
        label,
        "",
        config.optimizer.name,
        config.optimizer.impl,
        config.seed,
        options,
        options.get("lr", 0.0),
        config.data.batch_size,
        point=values,
        key=config_hash(config.to_dict()),
    )
    return Member(entry, config)
