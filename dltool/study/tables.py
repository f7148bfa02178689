"""A comparison's tables: comparison.csv (one row per member run), comparison.json (members, groups,
target, gaps), comparison.md (the verdict table) and the rich table in the terminal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.table import Table

from dltool.cli.report import make_console
from dltool.plots.labels import format_value
from dltool.store.run import atomic_write_json, atomic_write_text
from dltool.study.results import Group, MemberResult, member_row

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
    """Headings and cells shared by the terminal table and comparison.md."""
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


def write_tables(
    folder: Path, header: dict, results: list[MemberResult], groups: list[Group], seeds: int, toy: bool
) -> None:
    rows = [member_row(r) for r in results]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    atomic_write_text(folder / "comparison.csv", buffer.getvalue())
    json_groups = [
        {
            "group": g.name,
            "winner": g.winner,
            "status": g.status,
            "seeds": len(g.results),
            **{key: (list(value) if value else None) for key, value in g.stats.items()},
        }
        for g in groups
    ]
    atomic_write_json(folder / "comparison.json", {**header, "groups": json_groups, "results": rows})
    atomic_write_text(folder / "comparison.md", markdown(header, groups, rows, seeds, toy))


def markdown(header: dict, groups: list[Group], rows: list[dict], seeds: int, toy: bool) -> str:
    headings, cells = table_rows(groups, seeds, toy)
    lines = [
        f"# Optimizer comparison: {header['title']}",
        "",
        f"{header['status']}; {len(rows)} member runs, {seeds} seed(s) each; {header['target_text']}.",
        "",
    ]
    lines += ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    if seeds > 1:
        lines += ["", "Values are mean ± standard deviation over the seeds."]
    if header.get("impl_gaps"):
        variant, gap = max(header["impl_gaps"].items(), key=lambda item: item[1])
        lines += [
            "",
            f"Largest scratch vs torch gap: {gap:.1e} of the loss ({variant}). The notes' and torch's "
            "formulas differ for AdaGrad and RMSprop (eps inside or outside the root).",
        ]
    lines += ["", "## Member runs", "", "| group | seed | run id | status |", "|---|---|---|---|"]
    lines += [f"| {r['group']} | {r['seed']} | {r['run_id'] or '-'} | {r['status']} |" for r in rows]
    return "\n".join(lines) + "\n"


def print_comparison(header: dict, groups: list[Group], seeds: int, toy: bool, folder: Path, plots: list[Path]) -> None:
    console = make_console()
    headings, cells = table_rows(groups, seeds, toy)
    table = Table(title=f"{header['title']} — {header['target_text']}", title_justify="left")
    for heading in headings:
        table.add_column(heading, no_wrap=heading in ("", "impl"))
    for group, row in zip(groups, cells):
        table.add_row(*row, style="bold green" if group.winner else ("red" if "diverg" in group.status else None))
    console.print(table)
    winners = [g for g in groups if g.winner]
    if winners:
        console.print(f"winner (lowest final loss): [bold]{winners[0].name}[/bold]")
    console.print(f"comparison {folder.name} {header['status']}: {folder}")
    for path in plots:
        console.print(f"  {path}")
