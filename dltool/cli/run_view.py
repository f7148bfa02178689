"""One run as the terminal shows it: the lines that end `dltool train`, and `dltool show RUN`.

Reads the run's files only (never imports torch)."""

from __future__ import annotations

from rich.text import Text

from dltool.cli.views import make_console, print_paths
from dltool.store.run import RUN_FILES, Run
from dltool.terminal import wrapped
from dltool.text import printable
from dltool.train.resume import resume_command

MAX_CONFIG_SHOWN = 1 << 16  # bytes of config.yaml `show` prints (a saved config is under 2 KB)


def format_metrics(final: dict) -> str:
    parts = []
    for key, value in final.items():
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(parts) or "-"


def metrics_lines(summary: dict) -> list[str]:
    """A run's metrics as its summary has them: final ones for a run that completed; for one that
    stopped, its last records and, stopped inside an epoch, that epoch's train metrics so far."""
    status, epochs = summary.get("status"), summary.get("epochs")
    if status == "completed":
        return [f"final: {format_metrics(summary.get('final', {}))}"]
    at = f"stopped at step {summary['steps']:,}" if isinstance(summary.get("steps"), int) else "stopped"
    at += f" (epoch {epochs:.2f})" if isinstance(epochs, float) else ""
    lines = [at] + ([f"last metrics: {format_metrics(summary['final'])}"] if summary.get("final") else [])
    so_far = summary.get("epoch_so_far")
    if so_far:
        steps = int(so_far.get("steps", 0))
        metrics = {key: value for key, value in so_far.items() if key != "steps"}
        lines.append(f"epoch so far ({steps:,} steps): {format_metrics(metrics)}")
    return lines


def outcome_lines(run: Run, summary: dict) -> list[str]:
    """What `dltool train` prints at the end. Metrics and messages wrap to the terminal; the id, the
    resume command and the folder stay whole on their lines, to be copied."""
    status = summary.get("status", "unknown")
    lines = [f"run {run.id} {status}"]
    if summary.get("train_time_s") is not None:
        rate = summary.get("examples_per_s")
        lines.append(f"  trained in {summary['train_time_s']:.1f} s" + (f" ({rate:,.0f} examples/s)" if rate else ""))
    texts = metrics_lines(summary) + ([summary["error"]] if summary.get("error") else [])
    lines += [line for text in texts for line in wrapped(text, indent="  ")]
    if status == "interrupted" or (status == "failed" and run.path(RUN_FILES.checkpoint).exists()):
        lines += ["  continue it with:", f"    {resume_command(run)}"]  # the command on its own line: never split
    lines.append(f"  files: {run.folder}")
    return lines


def print_run(run: Run) -> None:
    """One run: its status, what is damaged in its files, then whatever the readable ones hold."""
    snapshot = run.snapshot()
    console = make_console()
    console.print(Text(printable(run.id), style="bold"), printable(snapshot.shown_status), markup=False)

    def say(text: str) -> None:  # file contents are shown as they are: no rich markup in them
        console.print(printable(text), markup=False, highlight=False)

    say(f"folder: {run.folder}")
    for reason in snapshot.damage:
        say(f"damaged: {reason}")
    status, summary = snapshot.status, snapshot.summary
    for key in ("started", "ended", "step", "error"):
        if status.get(key) is not None:
            say(f"{key}: {status[key]:,}" if key == "step" else f"{key}: {status[key]}")
    if status.get("distributed"):
        distributed = status["distributed"]
        hosts = sorted({rank["host"] for rank in distributed["ranks"]})
        say(f"processes: {distributed['world_size']} ({distributed['backend']}, on {', '.join(hosts)})")
    if summary:
        for line in metrics_lines(summary):
            say(line)
        say(f"best: {format_metrics(summary.get('best', {}))}")
        rate = summary.get("examples_per_s")
        rate = format(rate, ",.0f") if isinstance(rate, (int, float)) else "-"  # one number format everywhere
        steps = summary.get("steps")
        say(
            f"timings: train {summary.get('train_time_s')} s, wall {summary.get('wall_time_s')} s, "
            f"{rate} examples/s, {format(steps, ',') if isinstance(steps, int) else '-'} steps"
        )
    plots = sorted(run.path(RUN_FILES.plots).glob("*")) if run.path(RUN_FILES.plots).is_dir() else []
    if plots:
        say("plots:")
        print_paths(console, plots)
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
