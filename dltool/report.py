"""What the terminal shows about runs: the end-of-run lines, the runs table, one run in detail.

Reads run folders only (never imports torch), so browsing runs is quick.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from dltool.errors import UsageError
from dltool.runs import Run, RunStore

STATUSES = ("running", "completed", "failed", "diverged", "interrupted", "crashed")


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
    if status == "interrupted":
        lines.append(f"  continue it with: dltool train --resume {run.id}")
    lines.append(f"  files: {run.folder}")
    return lines


def run_row(run: Run) -> list[str]:
    config = run.config()
    model, optimizer = config.get("model", {}), config.get("optimizer", {})
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


def print_runs_table(store: RunStore, status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status '{status}': expected one of {', '.join(STATUSES)}")
    runs = store.list()
    if status is not None:
        runs = [run for run in runs if run.shown_status() == status]
    console = make_console()
    if not runs:
        where = f" with status '{status}'" if status else ""
        console.print(f"no runs{where} in {store.root}")
        return
    table = Table(title=f"runs in {store.root}")
    for column in ("id", "status", "model", "optimizer", "epochs", "eval loss", "eval acc", "wall s"):
        table.add_column(column, no_wrap=column == "id")
    for run in runs:
        table.add_row(*run_row(run))
    console.print(table)


def print_run(run: Run) -> None:
    console = make_console()
    status = run.status()
    summary = run.summary()
    console.print(f"[bold]{run.id}[/bold]  {run.shown_status()}")
    console.print(f"folder: {run.folder}")
    for key in ("started", "ended", "step", "error"):
        if status.get(key) is not None:
            console.print(f"{key}: {status[key]}")
    if summary:
        console.print(f"final: {format_metrics(summary.get('final', {}))}")
        console.print(f"best: {format_metrics(summary.get('best', {}))}")
        console.print(
            f"timings: train {summary.get('train_time_s')} s, wall {summary.get('wall_time_s')} s, "
            f"{summary.get('examples_per_s')} examples/s, {summary.get('steps')} steps"
        )
    config_path = run.path("config.yaml")
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
