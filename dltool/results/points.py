"""The results of a study whose members are points (a sweep's grid values, a tuning study's trials), read
back from its member runs' stored files: the points over their seeds, sorted by the study's metric
(mean ± std), and the tables: results.csv (one row per member), study.json's groups and results.md (one
row per point). The members' failures say why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dltool.store.run import now_iso
from dltool.store.study import StudyEnd, StudyFolder
from dltool.study.results import Group, MemberResult, group_results, load_results, target_loss
from dltool.study.sweep_plan import METRICS
from dltool.study.tables import format_stat, group_row, member_row
from dltool.text import format_value


@dataclass(frozen=True)
class PointsVerdict:
    results: list[MemberResult]
    groups: list[Group]  # best first by the metric; points without a value for it last
    metric: str  # loss, best_loss or acc
    split: str | None  # the split the metric is measured on (valid, test or full)

    @property
    def stat(self) -> str:
        return METRICS[self.metric][0]

    @property
    def described(self) -> str:
        """'final loss on valid': what the ranking column says."""
        return METRICS[self.metric][1] + (f" on {self.split}" if self.split else "")

    def value(self, group: Group) -> tuple[float, float] | None:
        return group.stats.get(self.stat)


def judge_points(study: StudyFolder) -> PointsVerdict:
    """The members' results grouped by point and ranked by the metric; the best completed point wins."""
    metric = study.record.header.plan["metric"]
    results = load_results(study)
    groups = group_results(results, target_loss(results, None))
    stat, _, higher = METRICS[metric]

    def rank(group: Group) -> tuple:
        value = group.stats.get(stat)
        return (value is None, 0.0 if value is None else (-value[0] if higher else value[0]))

    groups.sort(key=rank)
    if groups and groups[0].stats.get(stat) and all(r.status == "completed" for r in groups[0].results):
        groups[0].winner = True
    split = next((r.snapshot.eval_split for r in results if r.snapshot and r.snapshot.eval_split), None)
    return PointsVerdict(results, groups, metric, split)


def point_keys(study: StudyFolder) -> list[str]:
    """The keys a point sets: a sweep's grid keys, a tuning study's space keys."""
    plan = study.record.header.plan
    return list(plan.get("grid") or plan.get("space") or {})


def point_cells(study: StudyFolder, verdict: PointsVerdict) -> tuple[list[str], list[list[str]]]:
    """Headings and cells of the per-point table (terminal and results.md): grid values, metric, status."""
    keys, seeds = point_keys(study), study.record.header.seeds
    headings = ["", *keys, verdict.described, "wall (s)", "status"]
    rows = []
    for group in verdict.groups:
        point = group.first.point
        fmt = "{:.4f}" if verdict.metric == "acc" else "{:.6g}"
        cells = ["★" if group.winner else "", *(format_value(point.get(key)) for key in keys)]
        cells.append(format_stat(verdict.value(group), fmt, seeds))
        cells.append(format_stat(group.stats.get("wall_time_s"), "{:.2f}", seeds))
        rows.append([*cells, group.status])
    return headings, rows


def point_member_row(result: MemberResult) -> dict[str, Any]:
    """A member as results.csv has it: its grid values first, then what every study's table has, and why it failed."""
    row = {key: format_value(value) for key, value in result.member.point.items()}
    error = result.member.error if result.status == "failed" else None
    return {**row, **member_row(result), "error": error}


def write_point_tables(
    study: StudyFolder, status: str, verdict: PointsVerdict, wall_time_s: float, notes: tuple[str, ...] = ()
) -> None:
    """The end of a sweep or tuning study: the results into study.json, then results.csv and results.md
    (with `notes` under the table: a tuning study's objective and best trial)."""
    rows = [point_member_row(result) for result in verdict.results]
    groups = [{"point": group.first.point, **group_row(group)} for group in verdict.groups]
    target = target_loss(verdict.results, None)
    end = StudyEnd(now_iso(), wall_time_s, target, f"ranked by {verdict.described}", {}, groups, rows)
    study.finish(status, end)
    study.write_table(rows)
    study.write_verdict(markdown(study, verdict, rows, notes))


def markdown(study: StudyFolder, verdict: PointsVerdict, rows: list[dict], notes: tuple[str, ...]) -> str:
    header = study.record.header
    headings, cells = point_cells(study, verdict)
    shape = f"{len(verdict.groups)} points × {header.seeds} seed(s)" if study.kind == "sweep" else "one per trial"
    lines = [
        f"# {study.noun.capitalize()}: {header.title}",
        "",
        f"{study.record.status}; {len(rows)} member runs ({shape}); sorted by {verdict.described}, best first.",
        "",
        "| " + " | ".join(headings) + " |",
        "|" + "---|" * len(headings),
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    if header.seeds > 1:
        lines += ["", "Values are mean ± standard deviation over the seeds."]
    lines += [line for note in notes for line in ("", note)]
    lines += ["", "## Member runs", "", "| point | seed | run id | status |", "|---|---|---|---|"]
    for row, result in zip(rows, verdict.results):
        why = f" ({row['error']})" if row.get("error") else ""
        lines.append(f"| {result.member.group} | {row['seed']} | {row['run_id'] or '-'} | {row['status']}{why} |")
    return "\n".join(lines) + "\n"
