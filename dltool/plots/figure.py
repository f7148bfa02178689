"""Figures made and saved one way, with one look: every picture of dltool is drawn through here.

Figures are `matplotlib.figure.Figure` objects on an Agg canvas, never pyplot ones: there is no
display backend to pick, no global figure list that leaks memory over a sweep, and the backend of a
user's own session (a notebook importing dltool) is left alone. matplotlib itself is imported
lazily, on the first picture, so `dltool --help` and `dltool runs` don't pay for it.
Axis limits are never set by hand over the data (the notes' fixed ylim clipped curves).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dltool.errors import UsageError
from dltool.files import atomic_write
from dltool.plots.axes import PlotFormat
from dltool.text import printable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = tuple(f".{fmt.value}" for fmt in PlotFormat)  # a picture's format follows its file's extension
DPI = 150
# (linestyle, marker) per split in one run's pictures; per run in overlays and per implementation in
# comparisons, where torch.optim runs are dashed so they stay visible on top of the scratch runs
# they usually coincide with.
STYLES = {
    "train": ("-", "o"),
    "valid": ("-.", "^"),
    "test": ("--", "s"),
    "full": ("-", "D"),
    "run": ("-", "o"),
    "scratch": ("-", "o"),
    "torch": ("--", "s"),
}
MAX_MARKERS = 25  # curves with more points (every-N-examples evaluations, long runs) are drawn as lines
AUTO_LOG_SPAN = 1e3  # a loss spanning more than this factor (a diverging run) gets a log axis


def import_matplotlib() -> None:
    """matplotlib's modules that every picture needs (half a second), imported ahead by a process that is
    waiting anyway (a comparison, while its members train elsewhere)."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401


def blank_figure(width: float, height: float) -> Figure:
    """A Figure on an Agg canvas with constrained layout, so titles, labels and legends are never clipped."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["text.parse_math"] = False  # labels are user values: drawn as they are, never as TeX
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def new_figure(width: float = 7.0, height: float = 4.5) -> tuple[Figure, Axes]:
    fig = blank_figure(width, height)
    return fig, fig.add_subplot()


def check_format(path: Path, option: str = "cannot write") -> None:
    """A UsageError, before anything is drawn, for a file name whose extension is not a picture format."""
    if Path(path).suffix.lower() not in FORMATS:
        raise UsageError(f"{option} '{path}': the output format follows the extension, one of {', '.join(FORMATS)}")


def save_figure(fig: Figure, path: Path) -> Path:
    """Save by extension (.png, .svg, .pdf), atomically: a reader never sees half a picture."""
    path = Path(path)
    check_format(path)
    from matplotlib.text import Text

    for text in fig.findobj(Text):  # user values in titles, labels and legends: control characters escaped
        text.set_text(printable(text.get_text()))
    plain_log_ticks(fig)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda handle: fig.savefig(handle, format=path.suffix.lower()[1:], dpi=DPI))
    except OSError as exc:
        raise UsageError(f"cannot write '{path}' ({exc.strerror or exc})") from None
    return path


def plain_log_ticks(fig: Figure) -> None:
    """A log axis's tick labels as plain numbers (0.001, 0.01): matplotlib writes them as TeX ($10^{-3}$),
    which text.parse_math = False (user values are never TeX) would print raw."""
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainLogFormatter(LogFormatterSciNotation):
        def __call__(self, x, pos=None) -> str:
            return f"{x:g}" if super().__call__(x, pos) else ""  # labelled where matplotlib would label

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                             (axis.get_minor_formatter, axis.set_minor_formatter)):  # fmt: skip
                shown = get()
                if type(shown) is LogFormatterSciNotation:
                    put(PlainLogFormatter(labelOnlyBase=shown.labelOnlyBase, minor_thresholds=shown.minor_thresholds))


def save_figure_formats(fig: Figure, stem: Path, formats: Sequence[str]) -> list[Path]:
    """The figure drawn once and saved as stem.<format> for each format ('png', 'svg', 'pdf'); the paths."""
    stem = Path(stem)
    return [save_figure(fig, stem.with_name(f"{stem.name}.{fmt}")) for fmt in formats]


def colors(n: int) -> list:
    """n distinct colours, from one qualitative palette (tab10, tab20 beyond ten)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def sparse_marker(marker: str, points: int) -> str | None:
    """The marker for a curve of few points; none for a dense one, where markers would hide the line."""
    return marker if points <= MAX_MARKERS else None


def draw_curve(ax: Axes, xs: np.ndarray, ys: np.ndarray, style: str, label: str, color=None) -> None:
    linestyle, marker = STYLES.get(style, STYLES["run"])
    ax.plot(
        xs,
        ys,
        linestyle=linestyle,
        marker=sparse_marker(marker, len(xs)),
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


def mark_divergence(
    ax: Axes, note: str, xs: np.ndarray, ys: np.ndarray, color="tab:red", annotate: bool = True
) -> None:
    """Mark the last finite point of a diverged run's curve; `note` ('diverged at step N') is '' for other runs."""
    if not note or not len(xs):
        return
    last = int(np.argmax(xs))
    ax.plot([xs[last]], [ys[last]], marker="X", markersize=10, color=color, linestyle="none")
    if annotate:
        ax.annotate(
            note,
            xy=(xs[last], ys[last]),
            xytext=(-8, -14),
            textcoords="offset points",
            ha="right",
            va="top",
            color=color,
            fontsize=9,
        )
