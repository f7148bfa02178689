"""compare-optimizers on several problems (`--problem airfoil,fashion-mnist`, or `all`): each problem's
comparison as usual (its own study, verdict and pictures), then, across them, a study of kind `profile`
(dltool.study.kinds.profile): the rank table and the Dolan–Moré performance profile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from dltool.store.run import now_iso, this_process
from dltool.store.study import StudyFolder, StudyHeader
from dltool.study.compare import compare_optimizers
from dltool.study.kinds.profile import ProfileKind, ProfileSpec, places, tested
from dltool.study.lifecycle import StudyOutcome, conclude
from dltool.study.members import StudyOptions
from dltool.study.plan import PlanRequest


@dataclass(frozen=True)
class ProfileOutcome:
    profile: StudyOutcome  # the study across problems
    comparisons: list[StudyOutcome]  # each problem's
    exit_code: int  # the worst of the comparisons'


def compare_problems(problems: tuple[str, ...], request: PlanRequest, options: StudyOptions) -> ProfileOutcome:
    """Each problem's comparison, one after another, then the profile study across them."""
    started = time.perf_counter()
    outcomes = [compare_optimizers(replace(request, problem=name), options) for name in problems]
    comparisons = {outcome.study.record.header.problem: outcome.study.id for outcome in outcomes}
    placed = {outcome.study.record.header.problem: places(outcome.results) for outcome in outcomes}
    ranks, steps = ({problem: both[i] for problem, both in placed.items()} for i in (0, 1))
    untested = [outcome.study.record.header.problem for outcome in outcomes if not tested(outcome.results)]
    spec = ProfileSpec(comparisons=comparisons, ranks=ranks, steps=steps, untested=untested)
    study = StudyFolder.start(options.runs_dir, _header(problems, outcomes, request, spec), [])
    profile = conclude(study, "completed", 0, started, fork_ok=False)
    return ProfileOutcome(profile, outcomes, max((outcome.exit_code for outcome in outcomes), default=0))


def _header(problems: tuple[str, ...], outcomes: list[StudyOutcome], request: PlanRequest, spec) -> StudyHeader:
    return StudyHeader(
        # a run id stays readable: the problems' names up to three, then how many more
        problem="-".join(problems) if len(problems) <= 3 else f"{problems[0]}-and-{len(problems) - 1}-more",
        title=f"optimizers across {', '.join(problems)}",
        source=", ".join(f"--problem {name}" for name in problems),
        started=now_iso(),
        jobs=outcomes[0].study.record.header.jobs if outcomes else 1,
        seeds=request.seeds,
        created=time.time(),
        kind=ProfileKind.name,
        plan=spec.model_dump(),  # what the tables and `dltool plot` are made from
        noun=ProfileKind.noun,
        **this_process(),
    )
