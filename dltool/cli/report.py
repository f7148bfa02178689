"""What the terminal shows about runs: the end-of-run lines, the runs table, one run in detail.

Reads run folders only (never imports torch), so browsing runs is quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dltool.errors import UsageError
from dltool.store.run import RUN_FILES, Run, RunStore
from dltool.study.tables import table_rows
from dltool.train.resume import resume_command

if TYPE_CHECKING:
    from dltool.study.compare import Report


def make_console() -> Console:
    """A terminal's own width; piped output (files, scripts) gets wide lines instead of squeezed cells."""
    console = Console()
    if not console.is_terminal:
        console.width = 200
    return console


def format_metrics(final: dict) -> str:
    parts = []
    for key, value in final.items():
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(parts) or "-"


def outcome_lines(run: Run, summary: dict) -> list[str]:
    status = summary.get("status", "unknown")
    timing = ""
    if summary.get("train_time_s") is not None:
        rate = summary.get("examples_per_s")
        timing = f" in {summary['train_time_s']:.1f} s" + (f" ({rate:,.0f} examples/s)" if rate else "")
    lines = [f"run {run.id} {status}{timing}", f"  final: {format_metrics(summary.get('final', {}))}"]
    if summary.get("error"):
        lines.append(f"  {summary['error']}")
    if status == "interrupted" or (status == "failed" and run.path(RUN_FILES.checkpoint).exists()):
        lines.append(f"  continue it with: {resume_command(run)}")
    lines.append(f"  files: {run.folder}")
    return lines


def run_row(run: Run) -> list[str]:
    card = run.card()
    model, optimizer = card["model"], card["optimizer"]
    summary = run.summary()
    final = summary.get("final", {})
    eval_split = summary.get("eval_split", "test")
    loss = final.get(f"{eval_split}_loss")
    acc = final.get(f"{eval_split}_acc")
    return [
        run.id,
        run.shown_status(),
        f"{model.get('name', '?')} ({model.get('impl', '?')})",
        f"{optimizer.get('name', '?')} ({optimizer.get('impl', '?')})",
        f"{summary['epochs']:.2f}" if "epochs" in summary else "-",
        f"{loss:.4f}" if isinstance(loss, (int, float)) else "-",
        f"{acc:.4f}" if isinstance(acc, (int, float)) else "-",
        f"{summary['wall_time_s']:.1f}" if "wall_time_s" in summary else "-",
    ]


COLUMNS = ("id", "status", "model", "optimizer", "epochs", "eval loss", "eval acc", "wall s")


def filtered_runs(store: RunStore, status: str | None, model: str | None, optimizer: str | None) -> list[Run]:
    runs = store.list()
    if status is not None:
        runs = [run for run in runs if run.shown_status() == status]
    if model is not None:
        runs = [run for run in runs if run.card()["model"].get("name") == model]
    if optimizer is not None:
        runs = [run for run in runs if run.card()["optimizer"].get("name") == optimizer]
    return runs


def print_runs(store: RunStore, status=None, model=None, optimizer=None, fmt: str = "table") -> None:
    """The runs table, newest first; csv and json carry the same columns for scripts."""
    rows = [run_row(run) for run in filtered_runs(store, status, model, optimizer)]
    if fmt == "csv":
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        return
    if fmt == "json":
        import json

        print(json.dumps([dict(zip(COLUMNS, row)) for row in rows], indent=2))
        return
    console = make_console()
    if not rows:
        filters = ", ".join(
            f"{k} '{v}'" for k, v in (("status", status), ("model", model), ("optimizer", optimizer)) if v
        )
        console.print(f"no runs{' with ' + filters if filters else ''} in {store.root}")
        return
    table = Table(title=f"runs in {store.root}")
    for column in COLUMNS:
        table.add_column(column, no_wrap=True)
    for row in rows:  # Text cells: rich need not parse markup in 8 cells x 1000 runs
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def plot_command(store: RunStore, run_ids: list[str], metric: str | None, x: str, logy: bool, out) -> list:
    """One run and no options: its standard pictures. Otherwise one overlay figure. Each run's files
    are read once, into a snapshot; metric and x are choices the command line and the overlay check."""
    from pathlib import Path

    # the plot modules (numpy, matplotlib) load only when something is drawn
    from dltool.plots.figure import FORMATS
    from dltool.plots.overlay import plot_overlay
    from dltool.plots.run import write_snapshot_plots

    runs = [store.resolve(run_id) for run_id in run_ids]
    if out is not None and Path(out).suffix.lower() not in FORMATS:
        raise UsageError(f"--out '{out}': the file name must end in {', '.join(FORMATS)}")
    snapshots = [run.snapshot() for run in runs]
    for snapshot in snapshots:
        if not snapshot.metrics:
            raise UsageError(f"run '{snapshot.id}' has no metrics yet; nothing to plot")
    if len(snapshots) == 1 and metric is None and x == "epoch" and not logy and out is None:
        return write_snapshot_plots(snapshots[0])
    metric = metric or "loss"
    if out is None:
        folder = runs[0].path(RUN_FILES.plots) if len(runs) == 1 else store.root / RUN_FILES.plots
        out = folder / f"{metric}-vs-{x}.png"
    return [plot_overlay(snapshots, metric=metric, x=x, logy=logy, out=Path(out))]


def print_run(run: Run) -> None:
    console = make_console()
    status = run.status()
    summary = run.summary()
    console.print(f"[bold]{run.id}[/bold]  {run.shown_status()}")
    console.print(f"folder: {run.folder}")
    for key in ("started", "ended", "step", "error"):
        if status.get(key) is not None:
            console.print(f"{key}: {status[key]}")
    if status.get("distributed"):
        distributed = status["distributed"]
        hosts = sorted({rank["host"] for rank in distributed["ranks"]})
        console.print(f"processes: {distributed['world_size']} ({distributed['backend']}, on {', '.join(hosts)})")
    if summary:
        console.print(f"final: {format_metrics(summary.get('final', {}))}")
        console.print(f"best: {format_metrics(summary.get('best', {}))}")
        console.print(
            f"timings: train {summary.get('train_time_s')} s, wall {summary.get('wall_time_s')} s, "
            f"{summary.get('examples_per_s')} examples/s, {summary.get('steps')} steps"
        )
    plots = sorted(run.path(RUN_FILES.plots).glob("*")) if run.path(RUN_FILES.plots).is_dir() else []
    if plots:
        console.print("plots:")
        for path in plots:
            console.print(f"  {path}", markup=False, highlight=False)
    config_path = run.path(RUN_FILES.config)
    if config_path.exists():
        console.print("config:")
        console.print(config_path.read_text(encoding="utf-8").rstrip(), markup=False, highlight=False)


def print_layer_table(title: str, rows) -> None:
    """The rows of dltool.models.layers.layer_table as a table."""
    console = make_console()
    console.print(title)
    table = Table()
    for column, justify in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("parameters", "right")):
        table.add_column(column, justify=justify)
    for row in rows:
        shape = "×".join(str(n) for n in row.output_shape) if row.output_shape else "-"
        name = ("  " * max(row.depth - 1, 0)) + row.name
        style = "bold" if row.name == "total" else None
        table.add_row(name, row.kind, shape, f"{row.params:,}", style=style)
    console.print(table)


def print_comparison(report: Report) -> None:
    """The verdict table, the winner and where the files are."""
    comparison, verdict, plots = report.comparison, report.verdict, report.plots
    record = comparison.record
    headings, cells = table_rows(verdict.groups, record.header.seeds, record.header.objective is not None)
    table = Table(title=f"{record.header.title} — {verdict.target_text}", title_justify="left")
    for heading in headings:
        table.add_column(heading, no_wrap=heading in ("", "impl"))
    for group, row in zip(verdict.groups, cells):
        table.add_row(*row, style="bold green" if group.winner else ("red" if "diverg" in group.status else None))
    console = make_console()
    console.print(table)
    winners = [g for g in verdict.groups if g.winner]
    if winners:
        console.print(f"winner (lowest final loss): [bold]{winners[0].name}[/bold]")
    console.print(f"comparison {comparison.id} {record.status}: {comparison.folder}")
    for path in plots:
        console.print(f"  {path}")
