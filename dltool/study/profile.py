"""compare-optimizers on several problems (`--problem airfoil,fashion-mnist`, or `all`): each problem's
comparison as usual (its own study, verdict and pictures), then, across them, a rank table and a
Dolan–Moré performance profile in a study folder of kind `profile`.

An optimizer's measure on a problem is the mean final loss of its best contender there (scratch or
torch); its ratio is that over the best optimizer's, infinite where it has none (diverged, failed). The
profile rho(tau) is the fraction of problems on which an optimizer is within a factor tau of the best.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

from dltool.store.run import now_iso, this_process
from dltool.store.study import StudyEnd, StudyFolder, StudyHeader
from dltool.study.compare import Report, compare_optimizers
from dltool.study.members import CompareOptions
from dltool.study.plan import PlanRequest
from dltool.study.profile_tables import profile_markdown, ratios


@dataclass(frozen=True)
class ProfileReport:
    study: StudyFolder
    comparisons: list[Report]
    exit_code: int
    rows: list[dict]  # per optimizer: its rank on each problem and its mean rank


def measures(reports: list[Report]) -> dict[str, dict[str, float]]:
    """problem -> optimizer -> the mean final loss of its best ranked contender (missing: none ranked)."""
    table: dict[str, dict[str, float]] = {}
    for report in reports:
        best: dict[str, float] = {}
        for group in report.verdict.groups:
            standing = group.standing
            if standing is not None and standing.mean is not None and math.isfinite(standing.mean):
                optimizer = group.first.optimizer
                best[optimizer] = min(best.get(optimizer, math.inf), standing.mean)
        table[report.comparison.record.header.problem] = best
    return table


def rank_rows(table: dict[str, dict[str, float]]) -> list[dict]:
    """Per optimizer, its rank among the optimizers on each problem (by measure) and the mean rank; the
    unranked share the last place. Sorted by mean rank."""
    optimizers = sorted({name for row in table.values() for name in row})
    ranks: dict[str, dict[str, int]] = {name: {} for name in optimizers}
    for problem, row in table.items():
        ordered = sorted(row, key=row.get)
        for name in optimizers:
            ranks[name][problem] = ordered.index(name) + 1 if name in row else len(optimizers)
    rows = [
        {"optimizer": name, **ranks[name], "mean rank": sum(ranks[name].values()) / len(table)} for name in optimizers
    ]
    return sorted(rows, key=lambda row: row["mean rank"])


def compare_problems(problems: tuple[str, ...], request: PlanRequest, options: CompareOptions) -> ProfileReport:
    """Each problem's comparison, one after another, then the profile study across them."""
    started = time.perf_counter()
    reports = [compare_optimizers(replace(request, problem=name), options) for name in problems]
    table = measures(reports)
    rows = rank_rows(table)
    header = _header(problems, reports, request, table)
    study = StudyFolder.start(options.runs_dir, header, [])
    end = StudyEnd(now_iso(), round(time.perf_counter() - started, 3), None, "rank across problems", {}, [], rows)
    study.finish("completed", end)
    write_profile_files(study, table, rows)
    code = max((report.exit_code for report in reports), default=0)
    return ProfileReport(study, reports, code, rows)


def write_profile_files(study: StudyFolder, table: dict[str, dict[str, float]], rows: list[dict]) -> list[Path]:
    """results.csv and results.md (the rank table) and plots/performance_profile.png."""
    from dltool.plots.profile import draw_profile

    study.write_table(rows)
    study.write_verdict(profile_markdown(study, table, rows))
    return [draw_profile(study, ratios(table))]


def _header(problems: tuple[str, ...], reports: list[Report], request: PlanRequest, table: dict) -> StudyHeader:
    comparisons = {report.comparison.record.header.problem: report.comparison.id for report in reports}
    return StudyHeader(
        problem="-".join(problems),
        title=f"optimizers across {', '.join(problems)}",
        source=", ".join(f"--problem {name}" for name in problems),
        objective=None,
        started=now_iso(),
        jobs=reports[0].comparison.record.header.jobs if reports else 1,
        seeds=request.seeds,
        lr_scan=False,
        batch_scan=False,
        created=time.time(),
        kind="profile",
        plan={"comparisons": comparisons, "measures": table},  # what `dltool plot` redraws the profile from
        **this_process(),
    )
