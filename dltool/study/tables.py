"""A comparison's tables: the rows of results.csv (one per member run) and of study.json's
groups, the verdict table of results.md and the rich table in the terminal."""

from __future__ import annotations

from typing import Any

from dltool.store.run import now_iso
from dltool.store.study import StudyEnd, StudyFolder, StudyRecord
from dltool.study.results import Group, MemberResult, Verdict
from dltool.text import format_value

COLUMNS = (  # (stat key, heading, format)
    ("final_loss", "final loss", "{:.6g}"),
    ("best_loss", "best loss", "{:.6g}"),
    ("final_acc", "final acc", "{:.4f}"),
    ("time_to_target_s", "time to target (s)", "{:.3f}"),
    ("steps_to_target", "steps to target", "{:,.0f}"),
    ("wall_time_s", "wall (s)", "{:.2f}"),
    ("examples_per_s", "examples/s", "{:,.0f}"),
)


def format_stat(value: tuple[float, float] | None, fmt: str, seeds: int) -> str:
    if value is None:
        return "-"
    mean, std = value
    spread = f"{std:.2g}" if "g}" in fmt else fmt.format(std)  # a loss's std needs 2 digits, not 6
    return fmt.format(mean) + (f" ± {spread}" if seeds > 1 else "")


def shown_groups(groups: list[Group]) -> list[Group]:
    """The table's rows, best rank first: one per contender (identical scratch and torch are one row)."""
    shown, seen = [], set()
    for group in groups:
        if group.standing is None or id(group.standing) not in seen:
            shown.append(group)
            seen.add(id(group.standing))
    unranked = len(groups) + 1
    return sorted(shown, key=lambda g: (g.standing.rank or unranked) if g.standing else unranked)


def table_rows(groups: list[Group], seeds: int, toy: bool, target: float | None) -> tuple[list[str], list[list[str]]]:
    """Headings and cells shared by the terminal table and results.md."""
    columns = [c for c in COLUMNS if any(g.stats.get(c[0]) for g in groups) or c[0] == "final_loss"]
    if toy:  # a few steps on one point: examples/s says nothing
        columns = [c for c in columns if c[0] != "examples_per_s"]
    interval = seeds > 1
    headings = ["", "rank", "optimizer", "impl", "hyperparameters", *(c[1] for c in columns)]
    headings += ["95% CI"] if interval else []
    headings += ["reached target"] if target else []
    headings += ["final x"] if toy else []
    headings.append("status")
    rows = []
    vary_batch = len({g.first.batch_size for g in groups}) > 1
    for group in shown_groups(groups):
        member = group.first
        hyper = " ".join(f"{k}={format_value(v)}" for k, v in member.hyper.items() if k != "weight_decay" or v)
        hyper += f" batch={member.batch_size}" if vary_batch else ""
        cells = [
            *_standing_cells(group),
            member.optimizer,
            _impl(group),
            hyper + (f" ({member.note})" if member.note else ""),
        ]
        cells += [_stat_cell(group, key, fmt, seeds) for key, _, fmt in columns]
        cells += [_interval(group)] if interval else []
        cells += [group.reached] if target else []
        if toy:
            point = group.results[0].final_point
            cells.append("(" + ", ".join(f"{v:.6f}" for v in point) + ")" if point else "-")
        rows.append([*cells, group.status])
    return headings, rows


def _stat_cell(group: Group, key: str, fmt: str, seeds: int) -> str:
    """A statistic over the seeds; for a diverged member's final loss, the last finite one and its step."""
    diverged = next((r for r in group.results if r.status == "diverged"), None)
    if key == "final_loss" and group.stats.get(key) is None and diverged and diverged.last_finite:
        loss, step = diverged.last_finite
        return f"{loss:.6g} at step {step}, then diverged"
    return format_stat(group.stats.get(key), fmt, seeds)


def _standing_cells(group: Group) -> list[str]:
    """The verdict's marks: ★ for a single winner, 'tied' for those tied for best; the rank."""
    standing = group.standing
    mark = "★" if group.winner else ("tied" if standing and standing.tied_for_best else "")
    return [mark, str(standing.rank) if standing and standing.rank else "-"]


def _impl(group: Group) -> str:
    return "scratch = torch" if group.standing and len(group.standing.groups) > 1 else group.first.impl


def _interval(group: Group) -> str:
    standing = group.standing
    return f"[{standing.ci_low:.6g}, {standing.ci_high:.6g}]" if standing and standing.ci_low is not None else "-"


def member_row(result: MemberResult) -> dict[str, Any]:
    """One member as a flat row (results.csv and the results of study.json)."""
    m, s = result.member, result.summary
    return {
        "group": m.group,
        "optimizer": m.optimizer,
        "impl": m.impl,
        "seed": m.seed,
        "hyperparameters": " ".join(f"{k}={v}" for k, v in m.hyper.items()),
        "lr": m.lr,
        "batch_size": m.batch_size,
        "final_loss": result.final_loss,
        "best_loss": result.best_loss,
        "final_acc": result.final_acc,
        "time_to_target_s": result.time_to_target,
        "steps_to_target": result.steps_to_target,
        "wall_time_s": s.get("wall_time_s"),
        "examples_per_s": s.get("examples_per_s"),
        "steps": s.get("steps"),
        "status": "diverging" if result.growing else result.status,
        "diverged_at_step": result.diverged_at,
        "final_x": " ".join(f"{v:.6f}" for v in result.final_point) if result.final_point else None,
        "run_id": result.run_id,
    }


def group_row(group: Group) -> dict[str, Any]:
    """One group as study.json lists it: its (mean, std) per statistic."""
    stats = {key: (list(value) if value else None) for key, value in group.stats.items()}
    standing = group.standing.to_json() if group.standing else {}
    verdict = {key: standing.get(key) for key in ("rank", "ci_low", "ci_high", "tied_for_best")}
    row = {"group": group.name, "winner": group.winner, "status": group.status, "seeds": len(group.results)}
    row["reached_target"] = group.reached
    return {**row, **stats, **verdict, "contender": standing.get("name")}


def write_tables(comparison: StudyFolder, status: str, verdict: Verdict, wall_time_s: float) -> None:
    """The end of a comparison: the results into study.json, then results.csv and results.md."""
    rows = [member_row(result) for result in verdict.results]
    groups = [group_row(group) for group in verdict.groups]
    ruling = verdict.ruling
    judged = {"rule": ruling.rule, "winner": ruling.winner, "optimizers": [s.to_json() for s in ruling.standings]}
    end = StudyEnd(now_iso(), wall_time_s, verdict.target, verdict.target_text, verdict.gaps, groups, rows, judged)
    comparison.finish(status, end)
    comparison.write_table(rows)
    comparison.write_verdict(markdown(comparison.record, verdict, rows))


def verdict_line(verdict: Verdict) -> str:
    """'Winner: X.' or 'No single winner: A, B are tied for best.'"""
    ruling = verdict.ruling
    if ruling.winner is not None:
        return f"Winner: {ruling.winner}."
    tied = [s.name for s in ruling.standings if s.tied_for_best]
    if not tied:
        return "No winner: no member completed."
    if len(tied) == len([s for s in ruling.standings if s.rank]) > 2:
        return f"No single winner: all {len(tied)} are tied for best."
    return f"No single winner: {', '.join(tied)} are tied for best."


def markdown(record: StudyRecord, verdict: Verdict, rows: list[dict]) -> str:
    seeds, toy = record.header.seeds, record.header.objective is not None
    headings, cells = table_rows(verdict.groups, seeds, toy, verdict.target)
    lines = [
        f"# Optimizer comparison: {record.header.title}",
        "",
        f"{record.status}; {len(rows)} member runs, {seeds} seed(s) each; {verdict.target_text}.",
        "",
    ]
    lines += ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    if seeds > 1:
        lines += ["", "Values are mean ± standard deviation over the seeds."]
    lines += ["", verdict_line(verdict), "", f"Rule: {verdict.ruling.rule}."]
    if verdict.gaps:
        variant, gap = max(verdict.gaps.items(), key=lambda item: item[1])
        lines += [
            "",
            f"Largest scratch vs torch gap: {gap:.1e} of the loss ({variant}). The notes' and torch's "
            "formulas differ for AdaGrad and RMSprop (eps inside or outside the root).",
        ]
    lines += ["", "## Member runs", "", "| group | seed | run id | status |", "|---|---|---|---|"]
    lines += [f"| {r['group']} | {r['seed']} | {r['run_id'] or '-'} | {r['status']} |" for r in rows]
    return "\n".join(lines) + "\n"
