"""Pictures of runs, drawn from their stored files only (metrics.jsonl, config.yaml, status.json,
predictions.npz); torch is never imported, so plotting works and starts fast without it.

Figures are `matplotlib.figure.Figure` objects on an Agg canvas, never pyplot ones: there is no
display backend to pick, no global figure list that leaks memory over a sweep, and the backend of a
user's own session (a notebook importing this module) is left alone. matplotlib itself is imported
lazily, on the first picture, so `dltool --help` and `dltool runs` don't pay for it.

Each picture has a `build_*` function that returns the Figure (tests inspect its axes) and a
`plot_*` function that saves it; the format follows the file extension (.png, .svg or .pdf).
Axis limits are never set by hand over the data (the notes' fixed ylim clipped curves).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dltool.errors import UsageError
from dltool.plots.labels import run_labels, run_title, shared_context
from dltool.store.run import Run

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

METRICS = {"loss": "loss", "acc": "accuracy", "lr": "learning rate"}
X_AXES = {
    "epoch": "epoch",
    "step": "step (parameter updates)",
    "examples": "examples seen",
    "time": "training time (s)",
}
SPLITS = ("train", "test", "full")
SPLIT_LABELS = {"train": "train (epoch mean)", "test": "test", "full": "whole data set"}
# (linestyle, marker) per split in one run's pictures; per run in overlays, where torch.optim runs
# are dashed so they stay visible on top of the scratch runs they usually coincide with.
STYLES = {"train": ("-", "o"), "test": ("--", "s"), "full": ("-", "D"), "run": ("-", "o"), "torch": ("--", "s")}
FORMATS = (".png", ".svg", ".pdf")
RUN_FORMATS = (".png", ".svg")  # what a run's plots/ folder gets of every picture
PREDICTIONS = "predictions.npz"
MAX_MARKERS = 25  # curves with more points (every-N-examples evaluations, long runs) are drawn as lines
AUTO_LOG_SPAN = 1e3  # a loss spanning more than this factor (a diverging run) gets a log axis
DPI = 150
_FIELDS = ("step", "epoch", "examples", "time", "loss", "acc", "lr")


Columns = dict[str, np.ndarray]  # field -> float array (NaN where a record has null), one per split


# ---------------------------------------------------------------- reading the stored files


def load_columns(run: Run) -> dict[str, Columns]:
    """The run's records as arrays per split, in recorded order; a UsageError if there are none yet."""
    records = run.metrics()
    if not records:
        raise UsageError(
            f"run {run.id} has no metrics yet (status: {run.shown_status()}); "
            "its plots can be drawn once metrics.jsonl has records"
        )
    by_split: dict[str, list[dict]] = {}
    for record in records:
        by_split.setdefault(str(record.get("split")), []).append(record)
    return {split: {field: _column(rows, field) for field in _FIELDS} for split, rows in by_split.items()}


def _column(rows: list[dict], field: str) -> np.ndarray:
    values = [row.get(field) for row in rows]
    try:
        return np.array(values, dtype=float)  # None -> NaN
    except (TypeError, ValueError):  # a hand-edited record with a string in it: that value only is lost
        return np.array([_as_float(value) for value in values], dtype=float)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def series(columns: Columns, x: str, metric: str, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """x and metric values of one split, dropping records where either is missing or non-finite."""
    xs, ys = columns[x], columns[metric]
    keep = np.isfinite(xs) & np.isfinite(ys)
    if positive:
        keep &= ys > 0
    return xs[keep], ys[keep]


def lr_series(splits: dict[str, Columns], x: str, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The learning rate against x from every record, one point per step (splits repeat steps)."""
    steps = np.concatenate([columns["step"] for columns in splits.values()])
    xs = np.concatenate([columns[x] for columns in splits.values()])
    lrs = np.concatenate([columns["lr"] for columns in splits.values()])
    keep = np.isfinite(steps) & np.isfinite(xs) & np.isfinite(lrs)
    if positive:
        keep &= lrs > 0
    steps, xs, lrs = steps[keep], xs[keep], lrs[keep]
    _, first = np.unique(steps, return_index=True)  # sorted by step
    return xs[first], lrs[first]


def eval_split(run: Run, splits: dict[str, Columns]) -> str:
    """The split a run is judged on: the summary's, else test or full, whichever it has."""
    named = run.summary().get("eval_split")
    if named in splits:
        return named
    return next((split for split in ("test", "full", "train") if split in splits), next(iter(splits)))


# ---------------------------------------------------------------- drawing


def blank_figure(width: float, height: float) -> Figure:
    """A Figure on an Agg canvas with constrained layout, so titles, labels and legends are never clipped."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def new_figure(width: float = 7.0, height: float = 4.5) -> tuple[Figure, Axes]:
    fig = blank_figure(width, height)
    return fig, fig.add_subplot()


def save_figure(fig: Figure, path: Path) -> Path:
    """Save by extension (.png, .svg, .pdf), atomically: a reader never sees half a picture."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot write '{path}': the output format follows the extension, one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, format=suffix[1:], dpi=DPI)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write '{path}' ({exc.strerror or exc})") from None
    return path


def draw_curve(ax: Axes, xs: np.ndarray, ys: np.ndarray, style: str, label: str, color=None) -> None:
    linestyle, marker = STYLES.get(style, STYLES["run"])
    ax.plot(
        xs,
        ys,
        linestyle=linestyle,
        marker=marker if len(xs) <= MAX_MARKERS else None,
        markersize=4,
        linewidth=1.5,
        color=color,
        label=label,
    )


def finish_axes(ax: Axes, xlabel: str, ylabel: str, title: str, legend_outside: bool = False) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if not ax.lines:
        ax.text(0.5, 0.5, "no finite values recorded", transform=ax.transAxes, ha="center", va="center")
    elif legend_outside:  # a sweep, or long labels: beside the axes, not over the curves
        # a figure legend placed "outside" is what constrained layout makes room for
        ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=8, frameon=False)
    else:
        ax.legend(loc="best", fontsize=9)


def auto_log(ax: Axes, values: list[np.ndarray]) -> bool:
    """Log scale for a loss spanning orders of magnitude (a diverging run), so nothing is squashed."""
    finite = np.concatenate(values) if values else np.array([])
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > AUTO_LOG_SPAN:
        ax.set_yscale("log")
        return True
    return False


def lr_limits(ax: Axes, values: np.ndarray) -> None:
    """A learning rate axis from 0: a constant lr is a flat line, not noise magnified to fill the axes."""
    if len(values) and values.max() > 0:
        ax.set_ylim(0, values.max() * 1.1)


def divergence_note(run: Run) -> str:
    """'diverged at step N' for a diverged run, '' for any other."""
    status = run.status()
    if status.get("status") != "diverged":
        return ""
    step = status.get("diverged_at_step")
    return f"diverged at step {step}" if step is not None else "diverged"


def mark_divergence(ax: Axes, run: Run, xs: np.ndarray, ys: np.ndarray, color="tab:red", annotate: bool = True) -> None:
    """Mark the last finite point of a diverged run, with the step its loss became non-finite."""
    text = divergence_note(run)
    if not text or not len(xs):
        return
    last = int(np.argmax(xs))
    ax.plot([xs[last]], [ys[last]], marker="X", markersize=10, color=color, linestyle="none")
    if annotate:
        ax.annotate(
            text,
            xy=(xs[last], ys[last]),
            xytext=(-8, -14),
            textcoords="offset points",
            ha="right",
            va="top",
            color=color,
            fontsize=9,
        )


def build_run_figures(run: Run) -> dict[str, Figure]:
    """The single-run pictures: 'loss' (all splits vs epoch), 'loss_examples' (the evaluation loss vs
    examples, for runs that evaluate every N examples), 'accuracy' (classification only), 'lr' (vs step)."""
    splits = load_columns(run)
    config = run.config()
    figures = {"loss": build_loss(run, splits, config)}
    if (config.get("train") or {}).get("eval_every_examples"):  # the notes' every-100-examples curve
        figures["loss_examples"] = build_overlay([run], metric="loss", x="examples", split=eval_split(run, splits))
    if any(np.isfinite(columns["acc"]).any() for columns in splits.values()):
        figures["accuracy"] = build_accuracy(run, splits, config)
    figures["lr"] = build_lr(run, splits, config)
    return figures


def build_loss(run: Run, splits: dict[str, Columns], config: dict) -> Figure:
    fig, ax = new_figure()
    curves = []
    for split in sorted(splits, key=lambda s: SPLITS.index(s) if s in SPLITS else len(SPLITS)):
        xs, ys = series(splits[split], "epoch", "loss")
        if len(xs):
            curves.append((split, xs, ys))
    for split, xs, ys in sorted(curves, key=lambda c: -len(c[1])):  # dense curves underneath the markers
        draw_curve(ax, xs, ys, split, SPLIT_LABELS.get(split, split))
    log = auto_log(ax, [ys for _, _, ys in curves])
    if curves:
        split, xs, ys = max(curves, key=lambda c: c[1].max())
        mark_divergence(ax, run, xs, ys)
    finish_axes(ax, "epoch", "loss (log scale)" if log else "loss", run_title(run, "loss", config))
    return fig


def build_accuracy(run: Run, splits: dict[str, Columns], config: dict) -> Figure:
    fig, ax = new_figure()
    for split in (s for s in ("train", "test") if s in splits):
        xs, ys = series(splits[split], "epoch", "acc")
        if len(xs):
            draw_curve(ax, xs, ys, split, SPLIT_LABELS[split])
    finish_axes(ax, "epoch", "accuracy (fraction correct)", run_title(run, "accuracy", config))
    return fig


def build_lr(run: Run, splits: dict[str, Columns], config: dict) -> Figure:
    fig, ax = new_figure()
    xs, lrs = lr_series(splits, "step")
    if len(xs):
        ax.plot(xs, lrs, marker="o" if len(xs) <= MAX_MARKERS else None, markersize=4, label="learning rate")
    lr_limits(ax, lrs)
    finish_axes(ax, X_AXES["step"], "learning rate", run_title(run, "learning rate", config))
    return fig


def plot_run(run: Run, out_dir: Path) -> list[Path]:
    """loss, accuracy (classification runs) and lr pictures of one run, as PNG and SVG, into out_dir."""
    paths = []
    for name, fig in build_run_figures(run).items():
        paths += [save_figure(fig, Path(out_dir) / f"{name}{suffix}") for suffix in RUN_FORMATS]
    return paths


def overlay_splits(run: Run, splits: dict[str, Columns], metric: str, split: str | None, single: bool) -> list[str]:
    """Which of a run's splits an overlay draws: the one asked for; else, for one run every split
    that has the metric, for several runs the evaluation split (test or full) they are compared on."""
    if metric == "lr":
        return ["lr"]
    if split is not None:
        return [split] if split in splits else []
    if single:
        return [s for s in SPLITS if s in splits and np.isfinite(splits[s][metric]).any()]
    return [eval_split(run, splits)]


def check_overlay_args(metric: str, x: str, split: str | None) -> None:
    if metric not in METRICS:
        raise UsageError(f"--metric '{metric}': choose one of {', '.join(METRICS)}")
    if x not in X_AXES:
        raise UsageError(f"--x '{x}': choose one of {', '.join(X_AXES)}")
    if split is not None and split not in SPLITS:
        raise UsageError(f"split '{split}': choose one of {', '.join(SPLITS)}")


def build_overlay(
    runs: Sequence[Run], metric: str = "loss", x: str = "epoch", split: str | None = None, logy: bool = False
) -> Figure:
    """One curve per run (and, for a single run, per split) of metric against x."""
    check_overlay_args(metric, x, split)
    runs = list(runs)
    if not runs:
        raise UsageError("no runs to plot")
    configs = [run.config() for run in runs]
    labels = run_labels(runs, configs)
    loaded = [load_columns(run) for run in runs]
    chosen = [overlay_splits(run, splits, metric, split, len(runs) == 1) for run, splits in zip(runs, loaded)]
    mixed = len({s for names in chosen for s in names}) > 1
    # legends of many runs or long labels go beside the axes, in a figure widened to hold them
    longest = max(len(label) for label in labels) + (7 if mixed else 0) + (24 if any(map(divergence_note, runs)) else 0)
    outside = len(runs) > 6 or longest > 32
    fig, ax = new_figure(min(max(6.5 + 0.075 * longest, 9.5), 16.0) if outside else 7.0, 4.8)
    colors = _colors(len(runs)) if len(runs) > 1 else [None]  # one run: the default cycle, per split
    impls = [(config.get("optimizer") or {}).get("impl") for config in configs]
    styles = [("torch" if impl == "torch" and len(set(impls)) > 1 else "run") for impl in impls]
    drawn, missing, values = 0, [], []
    for index, (run, label, splits, names) in enumerate(zip(runs, labels, loaded, chosen)):
        color = colors[index]
        curves = [(name, *(_overlay_series(splits, name, x, metric, logy))) for name in names]
        curves = [curve for curve in curves if len(curve[1])]
        if not curves:
            missing.append(label)
            continue
        for name, xs, ys in curves:
            text = SPLIT_LABELS.get(name, name) if len(runs) == 1 else (f"{label} · {name}" if mixed else label)
            if len(runs) > 1 and divergence_note(run):
                text += f" ({divergence_note(run)})"
            draw_curve(ax, xs, ys, name if (mixed or len(runs) == 1) else styles[index], text, color)
            values.append(ys)
        drawn += len(curves)
        name, xs, ys = max(curves, key=lambda c: c[1].max())
        mark_divergence(ax, run, xs, ys, color=ax.lines[-1].get_color(), annotate=len(runs) == 1)
    if not drawn:
        wanted = f"{split} {metric}" if split else metric
        raise UsageError(f"no {wanted} records to plot in {', '.join(run.id for run in runs)}")
    for label in missing:  # say so in the legend rather than drop a run silently
        ax.plot([], [], linestyle="none", label=f"{label} (no {metric} records)")
    if logy:
        ax.set_yscale("log")
    elif metric == "lr":
        lr_limits(ax, np.concatenate(values))
    what = _overlay_quantity(metric, chosen)
    if len(runs) == 1:
        title = run_title(runs[0], f"{METRICS[metric]} vs {x}", configs[0])
    else:
        context = shared_context(configs)
        title = f"{what} of {len(runs)} runs" + (f"\n{context}" if context else "")
    ylabel = what + (" (log scale)" if logy else "")
    finish_axes(ax, X_AXES[x], ylabel, title, legend_outside=outside)
    return fig


def _overlay_series(splits: dict[str, Columns], name: str, x: str, metric: str, logy: bool):
    if metric == "lr":
        return lr_series(splits, x, positive=logy)
    return series(splits[name], x, metric, positive=logy)


def _overlay_quantity(metric: str, chosen: list[list[str]]) -> str:
    names = {s for names in chosen for s in names}
    if metric == "lr" or len(names) != 1:
        return METRICS[metric]
    (name,) = names
    return f"{'whole-set' if name == 'full' else name} {METRICS[metric]}"


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_overlay(
    runs: Sequence[Run],
    metric: str = "loss",
    x: str = "epoch",
    split: str | None = None,
    logy: bool = False,
    *,
    out: Path,
) -> Path:
    """build_overlay saved to out (.png, .svg or .pdf by extension)."""
    if Path(out).suffix.lower() not in FORMATS:  # before drawing anything
        raise UsageError(f"--out '{out}': the output format follows the extension, one of {', '.join(FORMATS)}")
    return save_figure(build_overlay(runs, metric=metric, x=x, split=split, logy=logy), Path(out))


def write_run_plots(run: Run) -> list[Path]:
    """Every picture of one run into its plots/ folder (PNG and SVG); the paths written."""
    out_dir = run.path("plots")
    paths = plot_run(run, out_dir)
    if run.path(PREDICTIONS).exists():
        from dltool.plots.predictions import build_confusion, build_prediction_grid, load_predictions

        predictions = load_predictions(run)
        for name, fig in (
            ("confusion", build_confusion(run, predictions)),
            ("predictions", build_prediction_grid(run, predictions)),
        ):
            paths += [save_figure(fig, out_dir / f"{name}{suffix}") for suffix in RUN_FORMATS]
    return paths
