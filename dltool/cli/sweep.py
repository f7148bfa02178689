"""`dltool sweep` and `dltool tune`: parse the options, run the study, print its table and files."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from dltool.cli.common import Quiet, RunsDir, SetOptions, config_argument, fail, user_errors
from dltool.cli.study import (
    ClusterAddress,
    ClusterOption,
    Engine,
    EngineOption,
    Jobs,
    MemberThreads,
    start_workers,
    study_options,
)
from dltool.plots.axes import canonical_metric
from dltool.study.optuna_storage import SERVER_TIMEOUT_S, set_server_timeout

ConfigArg = Annotated[Path | None, config_argument("The train config to vary (a path, or a shipped config's name).")]
Grid = Annotated[
    list[str] | None,
    typer.Option(
        "--grid",
        metavar="<key=v1,v2..>",
        help="KEY=V1,V2,... values as YAML, e.g. --grid optimizer.lr=0.01,0.1 --grid model.hidden=[256],[512,256] "
        "(repeatable: the product is swept).",
        show_default=False,
    ),
]


class RankMetric(str, Enum):
    """dltool.results.points.METRICS and the aliases of dltool.plots.axes (a test keeps them equal)."""

    loss = "loss"
    best_loss = "best_loss"
    acc = "acc"
    accuracy = "accuracy"


Metric = Annotated[
    RankMetric,
    typer.Option(
        help="What ranks the members: loss is the final evaluation loss, best_loss its lowest, acc (or accuracy) "
        "the final accuracy, higher is better."
    ),
]
Resume = Annotated[
    str | None,
    typer.Option(
        help="Continue a sweep (its id): only members not completed run.", show_default=False, metavar="<sweep-id>"
    ),
]
Seeds = Annotated[int, typer.Option(help="Repeat every grid point with this many seeds.", min=1, max=1000)]


@user_errors
def sweep(
    config: ConfigArg = None,
    grid: Grid = None,
    seeds: Seeds = 1,
    jobs: Jobs = None,
    engine: EngineOption = Engine.population,
    cluster: ClusterOption = None,
    cluster_address: ClusterAddress = None,
    metric: Metric = RankMetric.loss,
    threads: MemberThreads = None,
    set_: SetOptions = None,
    resume: Resume = None,
    runs_dir: RunsDir = None,
    quiet: Quiet = False,
) -> None:
    """Train CONFIG at every point of a grid (× seeds); a table sorted by the metric and plots in runs/<sweep-id>/.
    The same command again, or --resume SWEEP, runs only the members not completed."""
    if resume is not None and (config is not None or grid or set_ or threads):
        fail("--resume continues a sweep with its own plan; give no CONFIG, --grid, --set or --threads with it", 2)
    if resume is None and config is None:
        fail("give a CONFIG and at least one --grid KEY=V1,V2, or --resume SWEEP", 2)
    where = start_workers(jobs, cluster, cluster_address)
    from dltool.study.sweep import sweep as run
    from dltool.study.sweep_plan import SweepRequest

    thread_sets = (f"threads={threads}",) if threads else ()
    request = None
    if resume is None:
        request = SweepRequest(
            config, tuple(grid or ()), seeds, canonical_metric(metric.value), tuple(set_ or ()) + thread_sets
        )
    outcome = run(request, study_options(runs_dir, jobs, quiet, engine, where), resume)
    print_and_exit(outcome)


Space = Annotated[
    list[str] | None,
    typer.Option(
        "--space",
        metavar="<key=dist>",
        help="KEY=DIST with DIST loguniform(a,b), uniform(a,b), int(a,b) or choice(v1,v2,...), e.g. "
        "--space optimizer.lr='loguniform(1e-3,1)' (repeatable).",
        show_default=False,
    ),
]
Trials = Annotated[int | None, typer.Option(help="Trials in the study (all processes together).", show_default=False)]
Storage = Annotated[
    str | None,
    typer.Option(
        metavar="<url>",
        help="Optuna storage URL shared by processes on several machines, e.g. postgresql://user:pass@host/db "
        "(default: an SQLite file in the study folder).",
        show_default=False,
    ),
]
StorageTimeout = Annotated[
    float,
    typer.Option(
        min=1,
        metavar="<seconds>",
        help="How long a database server may take to connect or to answer a statement before the command stops "
        "with one line (an SQLite file waits for its lock instead).",
    ),
]
ResumeTune = Annotated[
    str | None, typer.Option(help="Continue a tuning study (its id).", show_default=False, metavar="<study-id>")
]
NoPrune = Annotated[bool, typer.Option("--no-prune", help="Train every trial to the end (no median pruner).")]


@user_errors
def tune(
    config: ConfigArg = None,
    space: Space = None,
    trials: Trials = None,
    jobs: Jobs = None,
    engine: EngineOption = Engine.population,
    cluster: ClusterOption = None,
    cluster_address: ClusterAddress = None,
    metric: Metric = RankMetric.loss,
    storage: Storage = None,
    storage_timeout: StorageTimeout = SERVER_TIMEOUT_S,
    no_prune: NoPrune = False,
    threads: MemberThreads = None,
    set_: SetOptions = None,
    resume: ResumeTune = None,
    runs_dir: RunsDir = None,
    quiet: Quiet = False,
) -> None:
    """Tune CONFIG's hyperparameters with Optuna (seeded TPE, median pruning); the trials table, best.yaml
    and plots in runs/<tune-id>/. Selection reads the validation split (data.validation), never the test set."""
    if resume is not None and (config is not None or space or set_ or threads or storage or trials):
        fail("--resume continues a tuning study with its own plan; give no CONFIG, --space, --trials, --storage, "
             "--set or --threads with it", 2)  # fmt: skip
    if resume is None and (config is None or trials is None):
        fail("give a CONFIG, at least one --space KEY=DIST and --trials N, or --resume TUNE-ID", 2)
    where = start_workers(jobs, cluster, cluster_address)
    set_server_timeout(storage_timeout)
    from dltool.study.tune import tune as run
    from dltool.study.tune_plan import TuneRequest

    request = None  # --resume: the study's own
    if resume is None:
        overrides = tuple(set_ or ()) + ((f"threads={threads}",) if threads else ())
        request = TuneRequest(
            config, tuple(space or ()), trials, canonical_metric(metric.value), storage, not no_prune, overrides
        )
    print_and_exit(run(request, study_options(runs_dir, jobs, quiet, engine, where), resume))


def print_and_exit(outcome) -> None:
    """A sweep's or tuning study's outcome shown; its exit code, where not 0."""
    from dltool.cli.views import print_outcome

    print_outcome(outcome)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
