"""What a comparison runs: the problems of the notes' optimization chapter, and the member configs.

A problem is a base config plus its variants (an optimizer with the hyperparameters the notes use
for it). The plan crosses the variants with the implementations, the learning-rate scales, the
batch sizes and the seeds; every member is an ordinary, fully validated train config.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool.config import Config, apply_overrides, load_config, load_registries, parse_override, read_yaml, validate
from dltool.errors import UsageError
from dltool.plots.labels import format_value
from dltool.registry import OPTIMIZERS

IMPLS = ("scratch", "torch")


@dataclass(frozen=True)
class Variant:
    optimizer: str
    hyper: dict[str, Any] = field(default_factory=dict)  # optimizer keys over the spec's defaults
    extra: tuple[str, ...] = ()  # dotted overrides of the rest of the config (steps, schedule, noise)
    note: str = ""  # what the notes call it, where more than the hyperparameters ("noisy, exponential lr")


@dataclass(frozen=True)
class Problem:
    name: str
    title: str
    base: dict[str, Any]
    variants: tuple[Variant, ...]
    pair_model_impl: bool = True  # scratch optimizer with the scratch model, as in the notes' two pipelines
    objective: str | None = None  # the toy objective's model name, for trajectory plots


def _toy(model: str, dims: int, steps: int) -> dict[str, Any]:
    return {
        "name": model,
        "model": {"name": model},
        "data": {"name": "gradient_noise", "batch_size": 1, "dims": dims, "steps": steps},
        "train": {"epochs": 1, "eval_every_examples": 1},
    }


AIRFOIL = {
    "name": "airfoil",
    "model": {"name": "linreg"},
    "data": {"name": "airfoil", "batch_size": 10},
    "train": {"epochs": 2, "eval_every_examples": 100},
}
FASHION = {
    "name": "fashion",
    "model": {"name": "softmax"},
    "data": {"name": "fashion_mnist", "batch_size": 256},
    "train": {"epochs": 3},
}
NOISY = ("data.mean=0.1", "data.std=1.0")  # the notes' np.random.normal(0.1): N(0.1, 1)

PROBLEMS = {
    problem.name: problem
    for problem in (
        Problem(
            "airfoil",
            "airfoil, linear regression",
            AIRFOIL,
            tuple(Variant(name) for name in ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam")),
        ),
        Problem(
            "fashion-mnist",
            "Fashion-MNIST",
            FASHION,
            (
                Variant("sgd", {"lr": 0.1}),
                Variant("momentum", {"lr": 0.01, "momentum": 0.9}),
                Variant("adagrad", {"lr": 0.1}),
                Variant("rmsprop", {"lr": 0.001}),
                Variant("adadelta"),
                Variant("adam", {"lr": 0.001}),
            ),
            pair_model_impl=False,
        ),
        Problem(
            "quadratic2d",
            "f = 0.1·x1² + 2·x2² from (-5, -2), 20 steps",
            _toy("quadratic2d", 2, 20),
            (
                Variant("sgd", {"lr": 0.4}),
                Variant("sgd", {"lr": 0.6}),
                Variant("momentum", {"lr": 0.4, "momentum": 0.5}),
                Variant("momentum", {"lr": 0.6, "momentum": 0.5}),
                Variant("adagrad", {"lr": 0.4}),
                Variant("adagrad", {"lr": 2.0}),
                Variant("rmsprop", {"lr": 0.4, "gamma": 0.9}),
                Variant("adadelta", {"rho": 0.9}, note="not in the notes"),
                Variant("adam", {"lr": 0.4}, note="not in the notes"),
            ),
            objective="quadratic2d",
        ),
        Problem(
            "bowl2d",
            "f = x1² + 2·x2² from (-5, -2)",
            _toy("bowl2d", 2, 20),
            (
                Variant("sgd", {"lr": 0.1}),
                Variant("sgd", {"lr": 0.1}, ("data.steps=50", *NOISY), "noisy gradient, constant lr"),
                Variant(
                    "sgd",
                    {"lr": 0.1},
                    ("data.steps=1000", *NOISY, "schedule.name=exponential", "schedule.lam=0.1", "schedule.unit=step"),
                    "noisy gradient, exponential lr",
                ),
                Variant(
                    "sgd",
                    {"lr": 0.1},
                    (
                        "data.steps=50",
                        *NOISY,
                        "schedule.name=polynomial",
                        "schedule.alpha=0.5",
                        "schedule.beta=0.1",
                        "schedule.unit=step",
                    ),
                    "noisy gradient, polynomial lr",
                ),
            ),
            objective="bowl2d",
        ),
        Problem(
            "square1d",
            "f = x² from 10, 10 steps",
            _toy("square1d", 1, 10),
            (Variant("sgd", {"lr": 0.2}), Variant("sgd", {"lr": 0.05}), Variant("sgd", {"lr": 1.1}), Variant("newton")),
            objective="square1d",
        ),
        Problem(
            "xcos1d",
            "f = x·cos(0.15π·x) from 10, 10 steps",
            _toy("xcos1d", 1, 10),
            (Variant("sgd", {"lr": 2.0}), Variant("newton"), Variant("newton", {"lr": 0.5})),
            objective="xcos1d",
        ),
        Problem(
            "cosh1d",
            "f = cosh(0.5·x) from 10, 10 steps",
            _toy("cosh1d", 1, 10),
            (Variant("newton"), Variant("sgd", {"lr": 1.0}, note="for contrast")),
            objective="cosh1d",
        ),
    )
}

# The notes' gradient descent vs stochastic vs minibatch runs on airfoil: batch size -> (lr, epochs).
NOTES_BATCH_RUNS = {1500: (1.0, 6), 1: (0.005, 2), 10: (0.05, 2), 100: (0.4, 2)}


@dataclass(frozen=True)
class Member:
    group: str  # what the tables and plots aggregate over seeds: "adam lr=0.01 · torch"
    variant: str  # the group without the impl: "adam lr=0.01"
    note: str  # the variant's note ("noisy gradient, exponential lr"), or ""
    optimizer: str
    impl: str
    hyper: dict[str, Any]
    seed: int
    lr: float
    batch_size: int
    config: Config


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


def describe_hyper(optimizer: str, hyper: dict[str, Any]) -> str:
    """'momentum lr=0.4 momentum=0.5': the hyperparameters that say which member this is."""
    shown = {key: value for key, value in hyper.items() if key not in ("weight_decay", "eps") or value}
    text = " ".join(f"{key}={format_value(value)}" for key, value in shown.items())
    return f"{optimizer} {text}".strip()


def plan_comparison(request: PlanRequest) -> Plan:
    """Every member's validated config; any bad input is a UsageError before anything runs."""
    load_registries()
    problem, source = _problem(request)
    optimizer_sets = [text for text in request.overrides if text.startswith("optimizer.")]
    _check_optimizer_set_keys(optimizer_sets)
    other_sets = [text for text in request.overrides if not text.startswith("optimizer.")]
    if request.config_path is not None:
        base = load_config(request.config_path, other_sets).to_dict()
    else:
        base = load_config(None, other_sets, base=problem.base).to_dict()
    # the notes' batch-size study is of SGD alone; other optimizers on request
    optimizers = request.optimizers or (("sgd",) if request.batch_sizes else ())
    variants = _chosen_variants(problem, optimizers)
    members = []
    for variant in variants:
        for impl in request.impls:
            if impl == "torch" and OPTIMIZERS.get(variant.optimizer).traits.torch is None:
                continue  # Newton's method has no torch.optim counterpart
            for scale in request.lr_scales or (None,):
                for batch_size in request.batch_sizes or (None,):
                    for k in range(request.seeds):
                        members.append(
                            _member(problem, base, variant, impl, scale, batch_size, k, request.overrides, source)
                        )
    if not members:
        raise UsageError("nothing to compare: no member has both a chosen optimizer and a chosen --impl")
    _check_optimizer_sets(optimizer_sets, members)
    title = problem.title if request.config_path is None else source
    if problem.objective is None and not request.batch_sizes:
        model = "" if problem.name == "airfoil" else f", {base['model']['name']}"  # airfoil's title says it
        title += f"{model}, batch {base['data']['batch_size']}"
    return Plan(
        problem.name,
        title,
        problem.objective,
        tuple(members),
        source,
        request.seeds,
        lr_scan=len(request.lr_scales) > 1,
        batch_scan=len(request.batch_sizes) > 1,
    )


def _problem(request: PlanRequest) -> tuple[Problem, str]:
    if request.config_path is not None:
        if request.problem is not None:
            raise UsageError("give a CONFIG or --problem, not both: a CONFIG is the problem")
        base = read_yaml(Path(request.config_path))
        name = str(base.get("name") or Path(request.config_path).stem)
        variants = PROBLEMS["airfoil"].variants  # each optimizer at its defaults (the notes' values)
        return Problem(name, name, {}, variants, pair_model_impl=False), str(request.config_path)
    name = request.problem or "airfoil"
    if name not in PROBLEMS:
        from dltool.errors import did_you_mean

        raise UsageError(
            f"--problem '{name}' is not a problem{did_you_mean(name, list(PROBLEMS))}; "
            f"valid problems: {', '.join(PROBLEMS)}, or give a train CONFIG"
        )
    return PROBLEMS[name], f"--problem {name}"


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


def _member(
    problem: Problem,
    base: dict,
    variant: Variant,
    impl: str,
    scale: float | None,
    batch_size: int | None,
    k: int,
    overrides: tuple[str, ...],
    source: str,
) -> Member:
    optimizer_sets = [text for text in overrides if text.startswith("optimizer.")]
    user_keys = {".".join(parse_override(text)[0]) for text in overrides}
    raw = apply_overrides(copy.deepcopy(base), list(variant.extra))
    defaults = OPTIMIZERS.get(variant.optimizer).options().model_dump()
    hyper = {**defaults, **variant.hyper}
    if batch_size is not None:
        raw["data"]["batch_size"] = batch_size
        if problem.name == "airfoil" and variant.optimizer == "sgd" and batch_size in NOTES_BATCH_RUNS:
            hyper["lr"], epochs = NOTES_BATCH_RUNS[batch_size]
            if "train.epochs" not in user_keys:  # a --set train.epochs wins over the notes' choice
                raw["train"]["epochs"] = epochs
    if scale is not None:
        hyper["lr"] = hyper["lr"] * scale
    raw["optimizer"] = {"name": variant.optimizer, "impl": impl, **hyper}
    if problem.pair_model_impl:
        raw["model"]["impl"] = impl
    raw["seed"] = base.get("seed", 0) + k
    raw["name"] = f"{base.get('name') or base['model']['name']}-{impl}"  # run ids then say which impl
    keys = {".".join(parse_override(text)[0]): text for text in optimizer_sets}
    accepted = [text for text in optimizer_sets if parse_override(text)[0][1] in raw["optimizer"]]
    raw = apply_overrides(raw, accepted)
    config = validate(raw, source, keys)
    shown = {key: value for key, value in config.optimizer.options.items() if key in variant.hyper or key == "lr"}
    label = describe_hyper(variant.optimizer, shown)
    if batch_size is not None:
        label += f" batch={batch_size}"
    if variant.note:
        label += f" ({variant.note})"
    return Member(
        f"{label} · {impl}",
        label,
        variant.note,
        variant.optimizer,
        impl,
        config.optimizer.options,
        config.seed,
        config.optimizer.options["lr"],
        config.data.batch_size,
        config,
    )


def _check_optimizer_set_keys(optimizer_sets: list[str]) -> None:
    for text in optimizer_sets:
        path = parse_override(text)[0]
        if len(path) != 2 or path[1] in ("name", "impl"):
            raise UsageError(
                f"--set '{text}': a comparison chooses optimizer.name and .impl itself (use --optimizers "
                f"and --impl); it takes --set optimizer.KEY=VALUE for a hyperparameter"
            )


def _check_optimizer_sets(optimizer_sets: list[str], members: list[Member]) -> None:
    """--set optimizer.KEY applies to the members whose optimizer has KEY; a KEY none has is a typo."""
    for text in optimizer_sets:
        path = parse_override(text)[0]
        if not any(path[1] in member.hyper for member in members):
            raise UsageError(f"--set '{text}': no compared optimizer has a hyperparameter '{path[1]}'")
