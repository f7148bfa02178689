"""What the terminal shows about runs: the end-of-run lines, the runs table, one run in detail.

Reads run folders only (never imports torch), so browsing runs is quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dltool.errors import UsageError
from dltool.store.run import RUN_FILES, Run, RunSnapshot, RunState, RunStore
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


def run_row(run: Run, state: RunState) -> list[str]:
    card = run.card(state.status)
    model, optimizer = card["model"], card["optimizer"]
    summary = state.summary
    final = summary.get("final", {})
    eval_split = summary.get("eval_split") or "test"
    loss = final.get(f"{eval_split}_loss")
    acc = final.get(f"{eval_split}_acc")
    return [
        run.id,
        state.shown_status,
        f"{model.get('name', '?')} ({model.get('impl', '?')})",
        f"{optimizer.get('name', '?')} ({optimizer.get('impl', '?')})",
        f"{summary['epochs']:.2f}" if summary.get("epochs") is not None else "-",
        f"{loss:.4f}" if isinstance(loss, (int, float)) else "-",
        f"{acc:.4f}" if isinstance(acc, (int, float)) else "-",
        f"{summary['wall_time_s']:.1f}" if summary.get("wall_time_s") is not None else "-",
        "; ".join(state.damage),
    ]


# "damage": what is wrong with a damaged run's files (empty for the others; a table shows it only then)
COLUMNS = ("id", "status", "model", "optimizer", "epochs", "eval loss", "eval acc", "wall s", "damage")


def filtered_runs(
    store: RunStore, status: str | None, model: str | None, optimizer: str | None
) -> list[tuple[Run, RunState]]:
    """The runs to list, each with its status.json and summary.json read once."""
    listed = [(run, run.state()) for run in store.list()]
    if status is not None:
        listed = [(run, state) for run, state in listed if state.shown_status == status]
    if model is not None:
        listed = [(run, state) for run, state in listed if run.card(state.status)["model"].get("name") == model]
    if optimizer is not None:
        listed = [(run, state) for run, state in listed if run.card(state.status)["optimizer"].get("name") == optimizer]
    return listed


def print_runs(store: RunStore, status=None, model=None, optimizer=None, fmt: str = "table") -> None:
    """The runs table, newest first; csv and json carry the same columns for scripts."""
    rows = [run_row(run, state) for run, state in filtered_runs(store, status, model, optimizer)]
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
        console.print(f"no runs{' with ' + filters if filters else ''} in {store.root}", markup=False)
        return
    shown = len(COLUMNS) if any(row[-1] for row in rows) else len(COLUMNS) - 1
    table = Table(title=f"runs in {store.root}")
    for column in COLUMNS[:shown]:
        table.add_column(column, no_wrap=column != "damage")
    for row in rows:  # Text cells: rich need not parse markup in 8 cells x 1000 runs
        table.add_row(*(Text(cell) for cell in row[:shown]))
    console.print(table)


def plot_command(
    store: RunStore, run_ids: list[str], metric: str | None, x: str, logy: bool, out, formats: list[str] | None = None
) -> list:
    """One run and no options: its standard pictures. Otherwise one overlay figure. Each run's files
    are read once, into a snapshot; metric and x are choices the command line and the overlay check.
    `formats` ('png', 'svg', 'pdf'; PNG when None) are those of the pictures drawn into plots/ folders;
    --out names its own by extension."""
    from pathlib import Path

    # the plot modules (numpy, matplotlib) load only when something is drawn
    from dltool.plots.figure import save_figure_formats
    from dltool.plots.overlay import build_overlay, plot_overlay
    from dltool.plots.run import default_formats, write_snapshot_plots

    runs = [store.resolve(run_id) for run_id in run_ids]
    check_out(out, formats)
    snapshots = [run.snapshot() for run in runs]
    for snapshot in snapshots:
        check_metrics(snapshot)
    formats = formats or default_formats()
    if len(snapshots) == 1 and metric is None and x == "epoch" and not logy and out is None:
        return write_snapshot_plots(snapshots[0], formats)
    metric = metric or "loss"
    if out is not None:
        return [plot_overlay(snapshots, metric=metric, x=x, logy=logy, out=Path(out))]
    folder = runs[0].path(RUN_FILES.plots) if len(runs) == 1 else store.root / RUN_FILES.plots
    figure = build_overlay(snapshots, metric=metric, x=x, logy=logy)
    return save_figure_formats(figure, folder / f"{metric}-vs-{x}", formats)


def check_out(out, formats: list[str] | None) -> None:
    """--out names a picture file, in the one format its extension says: --format may only agree with it."""
    from pathlib import Path

    from dltool.plots.figure import FORMATS

    if out is None:
        return
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--out '{out}': the file name must end in {', '.join(FORMATS)}")
    if formats and formats != [suffix[1:]]:
        raise UsageError(
            f"--out '{out}' is a {suffix[1:]} file but --format asks for {', '.join(formats)}; "
            "--out takes its format from its extension, so leave --format out or make them agree"
        )


def check_metrics(snapshot: RunSnapshot) -> None:
    """A run's valid records are drawn; skipped ones are counted on stderr; none at all is an error."""
    import sys

    skipped = snapshot.damage_of(RUN_FILES.metrics)
    if not snapshot.metrics:
        why = f"{skipped}; no valid record is left" if skipped else "it has no metrics yet"
        raise UsageError(f"run '{snapshot.id}': nothing to plot ({why})")
    if skipped:
        print(f"warning: run {snapshot.id}: {skipped}; plotting the others", file=sys.stderr)


MAX_CONFIG_SHOWN = 1 << 16  # bytes of config.yaml `show` prints (a saved config is under 2 KB)


def print_run(run: Run) -> None:
    """One run: its status, what is damaged in its files, then whatever the readable ones hold."""
    snapshot = run.snapshot()
    console = make_console()
    console.print(f"[bold]{run.id}[/bold]  {snapshot.shown_status}")

    def say(text: str) -> None:  # file contents are shown as they are: no rich markup in them
        console.print(text, markup=False, highlight=False)

    say(f"folder: {run.folder}")
    for reason in snapshot.damage:
        say(f"damaged: {reason}")
    status, summary = snapshot.status, snapshot.summary
    for key in ("started", "ended", "step", "error"):
        if status.get(key) is not None:
            say(f"{key}: {status[key]}")
    if status.get("distributed"):
        distributed = status["distributed"]
        hosts = sorted({rank["host"] for rank in distributed["ranks"]})
        say(f"processes: {distributed['world_size']} ({distributed['backend']}, on {', '.join(hosts)})")
    if summary:
        say(f"final: {format_metrics(summary.get('final', {}))}")
        say(f"best: {format_metrics(summary.get('best', {}))}")
        say(
            f"timings: train {summary.get('train_time_s')} s, wall {summary.get('wall_time_s')} s, "
            f"{summary.get('examples_per_s')} examples/s, {summary.get('steps')} steps"
        )
    plots = sorted(run.path(RUN_FILES.plots).glob("*")) if run.path(RUN_FILES.plots).is_dir() else []
    if plots:
        say("plots:")
        for path in plots:
            say(f"  {path}")
    print_config_text(run, say)


def print_config_text(run: Run, say) -> None:
    """config.yaml as saved (its first 64 KiB; bytes that are not UTF-8 shown as �)."""
    try:
        with open(run.path(RUN_FILES.config), "rb") as handle:
            data = handle.read(MAX_CONFIG_SHOWN + 1)
    except OSError:
        return
    say("config:")
    say(data[:MAX_CONFIG_SHOWN].decode("utf-8", errors="replace").rstrip())
    if len(data) > MAX_CONFIG_SHOWN:
        say(f"... (only the first {MAX_CONFIG_SHOWN // 1024} KiB of {RUN_FILES.config} shown)")


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
