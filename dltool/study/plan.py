"""What a comparison runs: the member configs of one problem (dltool.study.problems).

The plan crosses the problem's variants with the implementations, the learning-rate scales, the
batch sizes and the seeds; every member is an ordinary train config, validated here once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dltool.config import Config, Override, apply_overrides, load_registries, parse_overrides, validate
from dltool.errors import UsageError
from dltool.registry import DATASETS, OPTIMIZERS
from dltool.store.study import MemberEntry
from dltool.study.problems import NOTES_BATCH_RUNS, Problem, Variant, find_problem
from dltool.study.protocol import MEMBER_THREADS
from dltool.study.schedules import check_schedules, under_schedules
from dltool.study.space import parse_space
from dltool.study.tune_spaces import LR_ONLY
from dltool.text import format_value

IMPLS = ("scratch", "torch")
# --tune on data with a test set and no data.validation: the last 10,000 held out, or a sixth of a subset
# (data.train_size) where that is fewer: Fashion-MNIST's own proportion, 10,000 of 60,000
TUNING_VALIDATION = 10_000
FINAL_SEED_OFFSET = 1000  # with --tune, the final runs' seeds start here above the config's: the tuning's are apart


@dataclass(frozen=True)
class Member:
    entry: MemberEntry  # what study.json lists of it: group, optimizer, impl, hyperparameters, seed
    config: Config  # validated once, here; the member's process trains it as it is
    variant: Variant | None = None  # the problem's variant it runs (a comparison's members)


@dataclass(frozen=True)
class Plan:
    problem: str
    title: str
    objective: str | None
    members: tuple[Member, ...]
    source: str  # the CONFIG file or the built-in problem
    seeds: int = 1
    lr_scan: bool = False  # several --lr-scale values: draw the sensitivity plot
    batch_scan: bool = False  # several --batch-sizes: draw loss against examples
    target: float | None = None  # the problem's target loss for 'time to target' (None: best final + 10%)
    margin: float = 0.01  # the practical equivalence margin of the verdict (relative to the best's loss)
    deterministic: bool = False  # no member's seed changes its result: the seeds repeat one run
    base_seed: int = 0  # the config's seed: every tuning trial's


@dataclass(frozen=True)
class PlanRequest:
    config_path: Path | None = None
    problem: str | None = None
    optimizers: tuple[str, ...] = ()
    impls: tuple[str, ...] = IMPLS
    seeds: int = 1
    lr_scales: tuple[float, ...] = ()
    batch_sizes: tuple[int, ...] = ()
    overrides: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()  # in place of the problem's (the tuned ones of --tune)
    tune: int = 0  # trials of each variant's tuning before the comparison (dltool.study.compare_tuning)
    tune_space: tuple[str, ...] = ()  # --tune-space KEY=DIST: tuned beside the lr, for the optimizers that take KEY
    target_loss: float | None = None  # the loss for 'time to target'; None: the problem's, or the best final + 10%
    margin: float | None = None  # the verdict's equivalence margin; None: the problem's
    common_draws: bool = False  # --tune: every optimizer's quasi-random start at the same points
    schedules: tuple[str, ...] = ()  # --schedules: each setting under each (dltool.study.schedules)


@dataclass(frozen=True)
class Basis:
    """What every member starts from: the problem, its base config and the user's --set options."""

    problem: Problem
    source: str
    base: dict[str, Any]
    user_keys: frozenset[str]  # the dotted keys the user's --set options write
    optimizer_sets: tuple[Override, ...]  # --set optimizer.KEY=VALUE: for the members whose optimizer has KEY
    tuned: bool = False  # --tune: the final runs' seeds are offset


@dataclass(frozen=True)
class Setting:
    """One member's place in the plan's cross product."""

    variant: Variant
    impl: str
    lr_scale: float | None
    batch_size: int | None
    seed_offset: int


def describe_hyper(optimizer: str, hyper: dict[str, Any]) -> str:
    """'momentum lr=0.4 momentum=0.5': the hyperparameters that say which member this is."""
    shown = {key: value for key, value in hyper.items() if key not in ("weight_decay", "eps") or value}
    text = " ".join(f"{key}={format_value(value)}" for key, value in shown.items())
    return f"{optimizer} {text}".strip()


def plan_comparison(request: PlanRequest) -> Plan:
    """Every member's validated config; any bad input is a UsageError before anything runs."""
    load_registries()
    problem, source = find_problem(request.config_path, request.problem)
    basis = _basis(request, problem, source)
    check_schedules(request.schedules)
    members = [_member(basis, setting) for setting in _settings(problem, request, basis.base["train"]["epochs"])]
    if not members:
        raise UsageError("nothing to compare: no member has both a chosen optimizer and a chosen --impl")
    _check_optimizer_sets(basis, members)
    _check_tuning(request, members)
    return Plan(
        problem.name,
        _title(basis, request),
        problem.objective,
        tuple(members),
        source,
        request.seeds,
        lr_scan=len(request.lr_scales) > 1,
        batch_scan=len(request.batch_sizes) > 1,
        target=problem.target,
        margin=problem.margin if request.margin is None else request.margin,
        deterministic=all(_deterministic(member.config) for member in members),
        base_seed=basis.base.get("seed", 0),
    )


def _deterministic(config: Config) -> bool:
    """A member whose seed cannot change its result: a toy objective (a fixed start point) on data whose only
    randomness, its noise option (dltool.registry.DatasetTraits), is off."""
    noise = DATASETS.get(config.data.name).traits.noise_option
    return noise is not None and not config.data.options.get(noise)


def _basis(request: PlanRequest, problem: Problem, source: str) -> Basis:
    """The problem's base config with the user's --set options but the optimizer ones (each parsed once)."""
    overrides = parse_overrides(request.overrides)
    optimizer_sets = tuple(override for override in overrides if override.text.startswith("optimizer."))
    _check_optimizer_set_keys(optimizer_sets)
    others = [override for override in overrides if not override.text.startswith("optimizer.")]
    base = validate(apply_overrides(problem.base, others), source, others).to_dict()
    if request.tune and DATASETS.get(base["data"]["name"]).traits.test_split and not base["data"]["validation"]:
        subset = base["data"].get("train_size")  # tuning selects on held-out data, never the test set
        base["data"]["validation"] = min(TUNING_VALIDATION, subset // 6) if subset else TUNING_VALIDATION
    keys = frozenset(override.key for override in overrides)
    return Basis(problem, source, base, keys, optimizer_sets, bool(request.tune))


def _title(basis: Basis, request: PlanRequest) -> str:
    problem, base = basis.problem, basis.base
    title = problem.title if request.config_path is None else basis.source
    if problem.objective is None and not request.batch_sizes:
        model = "" if problem.name == "airfoil" else f", {base['model']['name']}"  # airfoil's title says it
        title += f"{model}, batch {base['data']['batch_size']}"
    return title


def _settings(problem: Problem, request: PlanRequest, epochs: int) -> Iterator[Setting]:
    # the notes' batch-size study is of SGD alone; other optimizers on request
    optimizers = request.optimizers or (("sgd",) if request.batch_sizes else ())
    # tuned variants (request.variants) are under their schedule already
    chosen = request.variants or under_schedules(_chosen_variants(problem, optimizers), request.schedules, epochs)
    for variant in chosen:
        for impl in request.impls:
            if impl == "torch" and OPTIMIZERS.get(variant.optimizer).traits.torch is None:
                continue  # Newton's method has no torch.optim counterpart
            scales, batch_sizes = request.lr_scales or (None,), request.batch_sizes or (None,)
            for scale, batch_size, k in itertools.product(scales, batch_sizes, range(request.seeds)):
                yield Setting(variant, impl, scale, batch_size, k)


def _chosen_variants(problem: Problem, optimizers: tuple[str, ...]) -> list[Variant]:
    if not optimizers:
        return list(problem.variants)
    for name in optimizers:
        OPTIMIZERS.get(name)  # unknown names: the registry's did-you-mean
    chosen = [variant for variant in problem.variants if variant.optimizer in optimizers]
    offered = {variant.optimizer for variant in problem.variants}
    for name in optimizers:
        if name not in offered:
            chosen.append(Variant(name))  # not in the notes for this problem: at the spec's defaults
    return chosen


def _member(basis: Basis, setting: Setting) -> Member:
    variant, impl = setting.variant, setting.impl
    config = validate(_member_raw(basis, setting), basis.source, basis.optimizer_sets)
    options = config.optimizer.options
    label = describe_hyper(variant.optimizer, {k: v for k, v in options.items() if k in variant.hyper or k == "lr"})
    if setting.batch_size is not None:
        label += f" batch={setting.batch_size}"
    if variant.note:
        label += f" ({variant.note})"
    entry = MemberEntry(
        f"{label} · {impl}",
        label,
        variant.note,
        variant.optimizer,
        impl,
        config.seed,
        options,
        options["lr"],
        config.data.batch_size,
    )
    return Member(entry, config, variant)


def _member_raw(basis: Basis, setting: Setting) -> dict[str, Any]:
    """The member's config as plain data: the base, the variant's overrides and hyperparameters."""
    variant, impl, base = setting.variant, setting.impl, basis.base
    raw = apply_overrides(base, parse_overrides(variant.extra))
    hyper = {**OPTIMIZERS.get(variant.optimizer).options().model_dump(), **variant.hyper}
    if setting.batch_size is not None:
        raw["data"]["batch_size"] = setting.batch_size
        notes_run = NOTES_BATCH_RUNS.get(setting.batch_size)
        if basis.problem.name == "airfoil" and variant.optimizer == "sgd" and notes_run:
            hyper["lr"], epochs = notes_run
            if "train.epochs" not in basis.user_keys:  # a --set train.epochs wins over the notes' choice
                raw["train"]["epochs"] = epochs
    if setting.lr_scale is not None:
        hyper["lr"] = hyper["lr"] * setting.lr_scale
    raw["optimizer"] = {"name": variant.optimizer, "impl": impl, **hyper}
    if basis.problem.pair_model_impl:
        raw["model"]["impl"] = impl
    # with --tune the final runs' seeds are apart from the tuning trials' (which run the config's): no tuning
    # run is ever a final member, so the selection's luck does not enter the verdict
    raw["seed"] = base.get("seed", 0) + (FINAL_SEED_OFFSET if basis.tuned else 0) + setting.seed_offset
    if raw.get("threads", "auto") == "auto":
        raw["threads"] = MEMBER_THREADS
    raw["name"] = f"{base.get('name') or base['model']['name']}-{impl}"  # run ids then say which impl
    return apply_overrides(raw, [override for override in basis.optimizer_sets if override.path[1] in raw["optimizer"]])


def _check_tuning(request: PlanRequest, members: list[Member]) -> None:
    """--tune with what it would overrule is refused; each --tune-space key must be some optimizer's."""
    if not request.tune and (request.tune_space or request.common_draws):
        what = "--tune-space" if request.tune_space else "--common-draws"
        raise UsageError(f"{what} needs --tune N (the trials each optimizer gets)")
    if request.tune and (request.lr_scales or request.batch_sizes):
        raise UsageError("--tune chooses each optimizer's lr itself: give it without --lr-scale or --batch-sizes")
    for entry in (parse_space(text, "--tune-space") for text in request.tune_space if text != LR_ONLY):
        if not entry.key.startswith("optimizer.") or entry.key == "optimizer.lr":
            raise UsageError(
                f"--tune-space {entry.key}: give an optimizer hyperparameter besides lr, e.g. optimizer.momentum"
            )
        if not any(entry.key.split(".")[1] in m.entry.hyper for m in members):
            raise UsageError(
                f"--tune-space {entry.key}: no compared optimizer has a hyperparameter '{entry.key.split('.')[1]}'"
            )


def _check_optimizer_set_keys(optimizer_sets: tuple[Override, ...]) -> None:
    for override in optimizer_sets:
        if len(override.path) != 2 or override.path[1] in ("name", "impl"):
            raise UsageError(
                f"--set '{override.text}': a comparison chooses optimizer.name and .impl itself (use --optimizers "
                f"and --impl); it takes --set optimizer.KEY=VALUE for a hyperparameter"
            )


def _check_optimizer_sets(basis: Basis, members: list[Member]) -> None:
    """--set optimizer.KEY applies to the members whose optimizer has KEY; a KEY none has is a typo."""
    for override in basis.optimizer_sets:
        if not any(override.path[1] in member.entry.hyper for member in members):
            raise UsageError(
                f"--set '{override.text}': no compared optimizer has a hyperparameter '{override.path[1]}'"
            )
