"""A comparison's tables: the rows of results.csv (one per member run) and of study.json's
groups, the verdict table of results.md and the rich table in the terminal."""

from __future__ import annotations

from typing import Any

from dltool.plots.labels import format_value
from dltool.store.run import now_iso
from dltool.store.study import StudyEnd, StudyFolder, StudyRecord
from dltool.study.results import Group, MemberResult, Verdict

COLUMNS = (  # (stat key, heading, format)
    ("final_loss", "final loss", "{:.6g}"),
    ("best_loss", "best loss", "{:.6g}"),
    ("final_acc", "final acc", "{:.4f}"),
    ("time_to_target_s", "time to target (s)", "{:.3f}"),
    ("wall_time_s", "wall (s)", "{:.2f}"),
    ("examples_per_s", "examples/s", "{:,.0f}"),
)


def format_stat(value: tuple[float, float] | None, fmt: str, seeds: int) -> str:
    if value is None:
        return "-"
    mean, std = value
    spread = f"{std:.2g}" if "g}" in fmt else fmt.format(std)  # a loss's std needs 2 digits, not 6
    return fmt.format(mean) + (f" ± {spread}" if seeds > 1 else "")


def table_rows(groups: list[Group], seeds: int, toy: bool) -> tuple[list[str], list[list[str]]]:
    """Headings and cells shared by the terminal table and results.md."""
    columns = [c for c in COLUMNS if any(g.stats.get(c[0]) for g in groups) or c[0] == "final_loss"]
    if toy:  # a few steps on one point: examples/s says nothing
        columns = [c for c in columns if c[0] != "examples_per_s"]
    headings = ["", "optimizer", "impl", "hyperparameters", *(c[1] for c in columns)]
    headings += ["final x"] if toy else []
    headings.append("status")
    rows = []
    vary_batch = len({g.first.batch_size for g in groups}) > 1
    for group in groups:
        member = group.first
        hyper = " ".join(f"{k}={format_value(v)}" for k, v in member.hyper.items() if k != "weight_decay" or v)
        hyper += f" batch={member.batch_size}" if vary_batch else ""
        cells = [
            "★" if group.winner else "",
            member.optimizer,
            member.impl,
            hyper + (f" ({member.note})" if member.note else ""),
        ]
        cells += [format_stat(group.stats.get(key), fmt, seeds) for key, _, fmt in columns]
        if toy:
            point = group.results[0].final_point
            cells.append("(" + ", ".join(f"{v:.6f}" for v in point) + ")" if point else "-")
        cells.append(group.status)
        rows.append(cells)
    return headings, rows


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
    return {"group": group.name, "winner": group.winner, "status": group.status, "seeds": len(group.results), **stats}


def write_tables(comparison: StudyFolder, status: str, verdict: Verdict, wall_time_s: float) -> None:
    """The end of a comparison: the results into study.json, then results.csv and results.md."""
    rows = [member_row(result) for result in verdict.results]
    groups = [group_row(group) for group in verdict.groups]
    end = StudyEnd(now_iso(), wall_time_s, verdict.target, verdict.target_text, verdict.gaps, groups, rows)
    comparison.finish(status, end)
    comparison.write_table(rows)
    comparison.write_verdict(markdown(comparison.record, verdict, rows))


def markdown(record: StudyRecord, verdict: Verdict, rows: list[dict]) -> str:
    seeds, toy = record.header.seeds, record.header.objective is not None
    headings, cells = table_rows(verdict.groups, seeds, toy)
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
