"""compare-optimizers' presets: the protocols (how many tuning trials and seeds each optimizer gets) and
the problems `--problem all` stands for. Light (no torch, no config): the command line derives its
choices and help from these at start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dltool.errors import UsageError, did_you_mean

TUNED_SEEDS = 5  # seeds when tuning and none given: a tuned comparison wants a tested verdict
UNTUNED_SEEDS = 1  # seeds without tuning and none given: the notes' one run per optimizer
# Under threads: auto, members compute with one intra-op thread whatever --jobs is: results that depend
# on the thread count (summation order in large matmuls and convolutions) would otherwise differ between
# --jobs 1 and --jobs N; the cores are used by running members side by side instead.
MEMBER_THREADS = 1


@dataclass(frozen=True)
class Preset:
    tune: int | None  # tuning trials per optimizer; None: as given (none: no tuning)
    seeds: int | None  # seeds per member; None: as given (none: 1, or TUNED_SEEDS when tuning)
    note: str


PROTOCOLS = {
    "quick": Preset(None, None, "the given settings"),
    "full": Preset(20, 5, "Schmidt et al.'s budget: a verdict to rely on"),
}

ALL_PROBLEMS = ("airfoil", "fashion-mnist")  # `--problem all`: the regression and classification problems
# `--problem suite`: the notes' models and two kinds of noise (sampled data, simulated gradient noise), each
# on a CPU budget (README: "The problem suite")
SUITE = (
    "airfoil",
    "synthetic",
    "nqm",
    "quadratic2d",
    "fashion-mnist",
    "fashion-mlp",
    "fashion-lenet",
    "fashion-resnet",
)
GROUPS = {"all": ALL_PROBLEMS, "suite": SUITE}  # the --problem names that stand for several


def budget(protocol: str, tune: int | None = None, seeds: int | None = None) -> dict[str, int]:
    """{'tune': trials per optimizer, 'seeds': seeds}: those given, the protocol's where not given;
    tuning defaults to TUNED_SEEDS seeds, no tuning to 1."""
    if protocol not in PROTOCOLS:
        choices = list(PROTOCOLS)
        raise UsageError(f"protocol '{protocol}' is not one of {', '.join(choices)}{did_you_mean(protocol, choices)}")
    preset = PROTOCOLS[protocol]
    tune = tune or preset.tune
    return {"tune": tune or 0, "seeds": seeds or preset.seeds or (TUNED_SEEDS if tune else UNTUNED_SEEDS)}


def expand_problems(names: Sequence[str]) -> tuple[str, ...]:
    """A --problem list with `all` or `suite` replaced by the problems they stand for, each problem once."""
    expanded = [problem for name in names for problem in GROUPS.get(name, (name,))]
    return tuple(dict.fromkeys(expanded))
