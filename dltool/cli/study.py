"""`dltool compare-optimizers`: parse the options into a plan request and run the comparison.

The worker server is started before anything heavy is imported, so its own imports overlap ours.
"""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import Quiet, RunsDir, SetOptions, comma_list, config_argument, fail, user_errors
from dltool.results.targets import TARGET_SLACK
from dltool.study.problems import DEFAULT_PROBLEM, PROBLEMS
from dltool.study.protocol import (
    ALL_PROBLEMS,
    GROUPS,
    MEMBER_THREADS,
    PROTOCOLS,
    SUITE,
    TUNED_SEEDS,
    UNTUNED_SEEDS,
    budget,
    expand_problems,
)

Problem = Enum("Problem", {name.replace("-", "_"): name for name in PROBLEMS}, type=str)
Protocol = Enum("Protocol", {name: name for name in PROTOCOLS}, type=str)


def _option(help: str, **kwargs) -> typer.models.OptionInfo:
    return typer.Option(help=help, show_default=False, **kwargs)


ConfigArg = Annotated[
    Path | None,
    config_argument("A train config to compare optimizers on: a path or a shipped config's name (default: --problem)."),
]
ProblemOption = Annotated[
    str | None,
    _option(
        f"A problem of the notes (default: {DEFAULT_PROBLEM}), several comma-separated, "
        f"all ({', '.join(ALL_PROBLEMS)}) or "
        f"suite (the {len(SUITE)} problems of the README's suite): "
        + ", ".join(PROBLEMS)
        + "; several add a rank table and a performance profile across them.",
        metavar="<names|all|suite>",
    ),
]
Optimizers = Annotated[str | None, _option("Comma-separated optimizers (default: the problem's).", metavar="<names>")]
Impls = Annotated[str, typer.Option("--impl", metavar="<names>", help="Comma-separated implementations.")]
Seeds = Annotated[
    int | None,
    _option(f"Repeat every member with this many seeds: intervals and a tested verdict (default {UNTUNED_SEEDS}; "
            f"{TUNED_SEEDS} with --tune).",
            min=1, max=1000),
]  # fmt: skip
Tune = Annotated[
    int | None,
    _option(
        "Tune each optimizer with this many trials first (the same budget for all; see --tune-space).", min=1, max=1000
    ),
]
TuneSpace = Annotated[
    list[str] | None,
    typer.Option("--tune-space", metavar="<lr|key=dist>", help="What --tune searches (default: each optimizer's "
                 "space after Schmidt et al. 2021, lr over decades plus momentum or betas). lr: the lr alone, from "
                 "x1/30 to x30 its default; KEY=DIST (DIST as in `dltool tune --space`): that lr and KEY, for the "
                 "optimizers that take KEY (repeatable).", show_default=False),
]  # fmt: skip


def protocol_help() -> str:
    """--protocol's help: each preset, as the options it stands for."""
    parts = []
    for name, preset in PROTOCOLS.items():
        given = " ".join(f"--{key} {value}" for key, value in (("tune", preset.tune), ("seeds", preset.seeds)) if value)
        parts.append(f"{name}: {given} ({preset.note})" if given else f"{name}: {preset.note}")
    return "; ".join(parts) + "."


ProtocolOption = Annotated[Protocol, typer.Option(help=protocol_help())]
Jobs = Annotated[int | None, _option("Parallel member processes (default: one per CPU core).", min=1, max=1024)]


class ClusterKind(str, Enum):
    local = "local"
    ray = "ray"


ClusterOption = Annotated[
    ClusterKind | None,
    _option("Where the members run: local (this machine's processes; the default unless RAY_ADDRESS is set) or ray "
            "(tasks on the Ray cluster at --cluster-address or RAY_ADDRESS, else a Ray runtime started here; "
            "needs the ray extra: README, studies on a Ray cluster)."),
]  # fmt: skip
ClusterAddress = Annotated[
    str | None,
    _option("The Ray head node, HOST:PORT (default: RAY_ADDRESS); implies --cluster ray.", metavar="<host:port>"),
]


class Engine(str, Enum):
    population = "population"
    process = "process"


EngineOption = Annotated[
    Engine,
    typer.Option(
        help="population: members that share a model (linreg, softmax, mlp), data, batch size and steps train "
        "as one computation; the others, and all under 'process', each as its own run in a worker process.",
    ),
]
LrScales = Annotated[
    str | None, _option("Learning-rate multiples, e.g. 0.3,1,3 (sensitivity plot).", metavar="<numbers>")
]
BatchSizes = Annotated[
    str | None, _option("Batch sizes, e.g. 1500,1,10,100 (the notes' GD vs SGD vs minibatch).", metavar="<numbers>")
]
MemberThreads = Annotated[
    int | None,
    _option(f"Torch threads per member (default: {MEMBER_THREADS}; members run side by side).", min=1, max=1024),
]
CommonDraws = Annotated[
    bool,
    typer.Option("--common-draws", help="With --tune: try every optimizer at the same quasi-random points "
                 "(default: each its own, so no two share a multiplier of their default lr)."),
]  # fmt: skip
Schedules = Annotated[
    str | None,
    _option("Learning-rate schedules, each a contender axis of its own (tuned on its own with --tune): "
            "constant, cosine, warmup_cosine, step.", metavar="<names>"),
]  # fmt: skip
Margin = Annotated[
    float | None,
    _option("The verdict's equivalence margin, relative to the best's loss (default: the problem's, "
            f"{' or '.join(f'{m:g}' for m in sorted({p.margin for p in PROBLEMS.values()}))}): a difference inside "
            "it is no reason to prefer one optimizer.", min=0.0, max=1.0),
]  # fmt: skip
TargetLoss = Annotated[
    float | None,
    _option("Loss for 'time to target' (default: the problem's stated target, e.g. "
            f"{DEFAULT_PROBLEM} {PROBLEMS[DEFAULT_PROBLEM].target:g}; for a CONFIG, the best final loss + "
            f"{TARGET_SLACK:.0%})."),
]  # fmt: skip


def chosen_problems(text: str | None) -> tuple[str, ...]:
    """--problem: one name, several comma-separated, `all` (the regression and classification problems) or
    `suite`."""
    return expand_problems(comma_list("--problem", text, str, (*PROBLEMS, *GROUPS)))


def run_and_show(problems: tuple[str, ...], request, options) -> None:
    """One comparison and its verdict, or each problem's then the rank table across them; the exit code."""
    from dltool.cli.views import print_outcome
    from dltool.study.compare import compare_optimizers
    from dltool.study.profile import compare_problems

    if len(problems) > 1:  # the profile's tables hold each problem's verdict, then the ranks across them
        outcome = compare_problems(problems, request, options)
        print_outcome(outcome.profile)
    else:
        outcome = compare_optimizers(request, options)
        print_outcome(outcome)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def check_target_loss(target_loss: float | None) -> None:
    if target_loss is not None and not math.isfinite(target_loss):
        fail(f"--target-loss {target_loss}: expected a finite number, e.g. --target-loss 0.25", 2)


def start_workers(jobs: int | None, cluster: ClusterKind | None = None, address: str | None = None) -> str | None:
    """First of all: the worker server's imports then overlap everything the command does next (members
    on a cluster need none). The cluster's address the members run on (dltool.study.cluster.wanted), or None."""
    from dltool.study.cluster import wanted

    where = wanted(cluster.value if cluster else None, address)
    if jobs != 1 and where is None:
        from dltool.train.workers import start_workers_early

        start_workers_early()
    return where


def study_options(runs_dir: Path | None, jobs: int | None, quiet: bool, engine: Engine, where: str | None):
    """How the study runs; on a cluster (joined here: a bad address is exit 2 before any folder), one member
    per CPU of the cluster at a time unless --jobs says otherwise."""
    from dltool.study.cluster import join
    from dltool.study.members import StudyOptions

    cluster = join(where) if where is not None else None
    if cluster is not None and jobs is None:
        jobs = cluster.slots()
    return StudyOptions(runs_dir, jobs, quiet, engine.value, cluster)


@user_errors
def compare_optimizers(
    config: ConfigArg = None,
    problem: ProblemOption = None,
    optimizers: Optimizers = None,
    impl: Impls = "scratch,torch",
    seeds: Seeds = None,
    tune: Tune = None,
    tune_space: TuneSpace = None,
    common_draws: CommonDraws = False,
    protocol: ProtocolOption = Protocol.quick,
    jobs: Jobs = None,
    engine: EngineOption = Engine.population,
    cluster: ClusterOption = None,
    cluster_address: ClusterAddress = None,
    threads: MemberThreads = None,
    set_: SetOptions = None,
    lr_scale: LrScales = None,
    batch_sizes: BatchSizes = None,
    schedules: Schedules = None,
    target_loss: TargetLoss = None,
    margin: Margin = None,
    runs_dir: RunsDir = None,
    quiet: Quiet = False,
) -> None:
    """Compare optimizers (scratch and torch.optim) on one problem; tables and plots in runs/<comparison-id>/."""
    check_target_loss(target_loss)
    problems = chosen_problems(problem)  # checked before a cluster is joined: a misspelt name costs nothing
    options = study_options(runs_dir, jobs, quiet, engine, start_workers(jobs, cluster, cluster_address))
    from dltool.study.plan import PlanRequest

    request = PlanRequest(
        config_path=config,
        problem=problems[0] if problems else None,
        **parsed_lists(optimizers, impl, lr_scale, batch_sizes, schedules),
        overrides=(*(set_ or []), *((f"threads={threads}",) if threads else ())),
        tune_space=tuple(tune_space or ()),
        **dict(target_loss=target_loss, margin=margin, common_draws=common_draws),
        **budget(protocol.value, tune, seeds),
    )
    run_and_show(problems, request, options)


def parsed_lists(
    optimizers: str | None, impl: str, lr_scale: str | None, batch_sizes: str | None, schedules: str | None
) -> dict:
    """The comma-separated options as tuples, each checked (a bad item is an error naming its option)."""
    from dltool.bounds import MAX_BATCH_SIZE
    from dltool.study.plan import IMPLS
    from dltool.study.schedules import SCHEDULES

    return {
        "optimizers": comma_list("--optimizers", optimizers, str),
        "impls": comma_list("--impl", impl, str, IMPLS),
        "lr_scales": comma_list("--lr-scale", lr_scale, float),
        "batch_sizes": comma_list("--batch-sizes", batch_sizes, int, maximum=MAX_BATCH_SIZE),
        "schedules": comma_list("--schedules", schedules, str, SCHEDULES),
    }
