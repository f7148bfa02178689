"""report.html: a run on one self-contained page, and the parts a study's page (dltool.study.page) is
made of: pictures as data: URIs (a run's drawn first where missing), inline CSS, no JavaScript, no
external URL (its Content-Security-Policy forbids any load).
Read from stored files only (never imports torch); every stored text is escaped."""

from __future__ import annotations

import base64
import contextlib
import html
import re
from collections.abc import Callable
from pathlib import Path

from dltool import __version__
from dltool.errors import UsageError
from dltool.files import atomic_write_text, read_json
from dltool.plots.axes import OVERLAY_MARK
from dltool.store.run import RUN_FILES, Run, RunSnapshot, now_iso
from dltool.store.study import STUDY_FILES

REPORT_NAME = STUDY_FILES.report  # a run's page has the same name
MAX_TEXT = 1 << 16  # bytes of a stored text file (config.yaml) put on the page
STATUS_CLASSES = {"completed": "ok", "running": "run", "pending": "wait"}  # interrupted, pruned...: "warn"
STATUS_CLASSES |= dict.fromkeys(("failed", "diverged", "crashed", "damaged"), "bad")
NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?( ± [-+\d.,e]+)?$")  # cells aligned right
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"  # nothing can be fetched
CSS = """
body { margin: 0; color: #1f2328; font: 15px/1.5 system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 28px 32px 40px; } p { margin: 6px 0; } .sub { margin: 0; }
h1 { font-size: 23px; margin: 0 0 6px; overflow-wrap: anywhere; } h3, h4 { font-size: 15px; margin: 18px 0 6px; }
h2 { font-size: 18px; margin: 30px 0 10px; padding-bottom: 5px; border-bottom: 1px solid #d1d9e0; }
header { border-bottom: 1px solid #d1d9e0; padding-bottom: 14px; } .sub, .muted, figcaption { color: #59636e; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0 14px; } .scroll { overflow-x: auto; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; text-align: left; vertical-align: top; }
thead th, .kv th { background: #f6f8fa; } .kv th { min-width: 150px; } tr.winner td { background: #dafbe1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } figure img { width: 100%; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: 12px 14px; white-space: pre-wrap; }
pre, code { font: 13px/1.45 ui-monospace, Menlo, Consolas, monospace; } code { background: #f6f8fa; }
.status { padding: 0 10px; border: 1px solid; border-radius: 9px; font-size: 13px; font-weight: 600; }
.s-ok { background: #dafbe1; color: #116329; } .s-run { background: #ddf4ff; color: #0550ae; } section { min-width: 0; }
.s-bad { background: #ffebe9; color: #a40e26; } .s-warn { background: #fff8c5; color: #7d4e00; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 0 32px; }
.figures { display: grid; grid-template-columns: 1fr; gap: 16px; } figure img { cursor: zoom-in; }
figure img:focus { position: fixed; inset: 0; margin: auto; width: 98vw; height: 98vh; object-fit: contain; z-index: 9;
  cursor: zoom-out; background: #fff; box-shadow: 0 0 0 100vmax rgba(0, 0, 0, .55); outline: none; }
figure { margin: 0; border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px; font-size: 13px; text-align: center; }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; background: #fff; }
.scroll thead th:first-child { background: #f6f8fa; } .scroll tr.winner td:first-child { background: #dafbe1; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid #d1d9e0; font-size: 13px; color: #59636e; }
"""


def write_run_report(run: Run, out: Path | None = None) -> Path:
    """A run's report.html in its folder (or `out`); its path."""
    return write_page(run.folder, lambda: build_run_report(run), out)


def write_page(folder: Path, build: Callable[[], str], out: Path | None = None) -> Path:
    """report.html in `folder` (or `out`), built by `build` and written atomically; its path."""
    path = folder / REPORT_NAME if out is None else Path(out)
    if out is not None and path.is_dir():
        raise UsageError(f"--out '{out}' is a folder; give a file name, e.g. --out {path / REPORT_NAME}")
    if not path.parent.is_dir():
        raise UsageError(f"--out '{out}': the folder '{path.parent}' does not exist")
    text = build()  # before the file is touched: a failure leaves none behind
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write the report to '{path}' ({exc.strerror})") from None
    return path


def build_run_report(run: Run) -> str:
    """The page of a run, as HTML."""
    snapshot = run.snapshot()
    return page(f"run {run.id}", card_text(run.card(snapshot.status)), snapshot.shown_status, run_sections(snapshot))


def page(title: str, about: str, status: str, sections: list[str]) -> str:
    head = f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{POLICY}">'
    head += '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
    footer = f"Written by dltool {esc(__version__)} (<code>dltool report</code>) on {esc(now_iso())}."
    top = f"<header><h1>{esc(title)} {badge(status)}</h1><p class=sub>{esc(about)}</p></header>"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head>{head}<title>{esc(title)}</title><style>{CSS}</style></head>\n'
        f"<body><main>\n{top}\n" + "\n".join(sections) + f"\n<footer>{footer}</footer>\n</main></body></html>\n"
    )


def run_sections(snapshot: RunSnapshot) -> list[str]:
    run, status, summary = snapshot.run, snapshot.status, snapshot.summary
    rows = [("status", snapshot.shown_status), ("model, optimizer", card_text(run.card(status)))]
    rows += [(key, status.get(key)) for key in ("study", "started", "ended", "step", "error")]
    rows += [("eval split", summary.get("eval_split")), ("folder", run.folder)]
    overview = section("Overview", kv_table(rows + [("damaged", reason) for reason in snapshot.damage]))
    final, best = summary.get("final") or {}, summary.get("best") or {}
    metrics = [[cell(key), cell(final.get(key)), cell(best.get(key))] for key in dict.fromkeys([*final, *best])]
    timings = [("train time (s)", summary.get("train_time_s")), ("wall time (s)", summary.get("wall_time_s"))]
    timings += [(key.replace("_", " "), summary.get(key)) for key in ("examples_per_s", "steps", "epochs", "examples")]
    ended = table(["metric", "final", "best"], metrics) + kv_table(timings)
    overview += section("Metrics", ended if summary else muted(f"no {RUN_FILES.summary} yet: the run has not ended"))
    config = read_text(run.path(RUN_FILES.config))
    return [
        f'<div class="columns">{overview}</div>',
        section("Plots", figures(run_pictures(snapshot))),
        section("Config", f"<pre>{esc(config)}</pre>" if config else muted(f"{RUN_FILES.config} is missing")),
        section("Environment", env_table(run)),
    ]


def card_text(status: dict) -> str:
    """'linreg (scratch), adam (torch)': the model and optimizer of a run's card (Run.card)."""
    parts = [status.get(key) for key in ("model", "optimizer")]
    return ", ".join(f"{part.get('name')} ({part.get('impl')})" for part in parts if isinstance(part, dict))


def env_table(run: Run) -> str:
    """env.json: versions, device, threads, the command."""
    env = read_json(run.path(RUN_FILES.env))
    if env is None:
        return muted(f"{RUN_FILES.env} of {run.id} is missing or unreadable")
    rows = [(key, " ".join(map(str, value)) if isinstance(value, list) else value) for key, value in env.items()]
    return kv_table(rows) + f'<p class="muted">from <code>{esc(run.id)}/{RUN_FILES.env}</code></p>'


def run_pictures(snapshot: RunSnapshot) -> list[Path]:
    """The run's PNG pictures; drawn first where plots/ has none and there are metrics to draw."""
    folder = snapshot.run.path(RUN_FILES.plots)
    if not any(folder.glob("*.png")) and snapshot.metrics:
        from dltool.plots.run import write_snapshot_plots  # numpy and matplotlib: only when something is drawn

        write_snapshot_plots(snapshot, ["png"])
    return own_pictures(folder)


def own_pictures(folder: Path) -> list[Path]:
    """The PNG pictures in `folder` that its run or study drew, not the overlays `dltool plot` wrote there."""
    return sorted(path for path in folder.glob("*.png") if OVERLAY_MARK not in path.stem)


def figures(paths: list[Path]) -> str:
    """Each picture inlined as a data: URI, the page's width, its file name under it; a click enlarges it to
    the window (CSS only: the page holds no script and links to nothing), a click beside it puts it back."""
    items = []
    for path in paths:
        with contextlib.suppress(OSError):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            image = f'<img src="data:image/png;base64,{data}" alt="{esc(path.stem)}" tabindex="0">'
            items.append(f"<figure>{image}<figcaption>{esc(path.name)}</figcaption></figure>")
    return f'<div class="figures">{"".join(items)}</div>' if items else muted("no pictures yet (no metrics recorded)")


def inline(text: str) -> str:
    """Escaped text with its `code` spans and **bold** runs marked up."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def table(headings: list[str] | None, rows: list[list[str]], marked: set[int] = frozenset()) -> str:
    """A table of cells already made (<td>...</td>); `marked` rows are highlighted (a study's best)."""
    head = "<thead><tr>" + "".join(f"<th>{inline(h)}</th>" for h in headings) + "</tr></thead>" if headings else ""
    body = "".join(f"<tr{' class=winner' if i in marked else ''}>{''.join(row)}</tr>" for i, row in enumerate(rows))
    return f'<div class="scroll"><table>{head}<tbody>{body}</tbody></table></div>'


def cell(value: object, markup=None) -> str:
    """<td> of a value, escaped (or marked up by `markup`); numbers, and text that reads as one, aligned right."""
    text = fmt(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool) or bool(NUMBER.match(text))
    return f"<td{' class=num' if numeric else ''}>{(markup or esc)(text)}</td>"


def kv_table(rows: list[tuple[str, object]]) -> str:
    """Two columns, name and value; rows without a value are left out; a status gets its badge."""
    shown = [(key, badge(value) if key == "status" else esc(fmt(value))) for key, value in rows if not empty(value)]
    body = "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in shown if value)
    return f'<table class="kv"><tbody>{body}</tbody></table>' if body else ""


def empty(value: object) -> bool:
    """None, or an empty list, mapping or text: a row not worth a line."""
    return value is None or (isinstance(value, list | tuple | dict | str) and not value)


def fmt(value: object) -> str:
    """Floats to 6 significant digits (from 10,000: one decimal, thousands separated), ints separated, yes
    and no for booleans, lists and mappings as short text (never Python's repr)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={fmt(item)}" for key, item in value.items())
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1e4 else f"{value:.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "-" if value is None else str(value)


def section(title: str, inner: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{inner}</section>"


def badge(status: object) -> str:
    return f'<span class="status s-{STATUS_CLASSES.get(str(status), "warn")}">{esc(status)}</span>'


def muted(text: str) -> str:
    return f'<p class="muted">{esc(text)}</p>'


def esc(value: object) -> str:
    return html.escape(str(value))


def read_text(path: Path) -> str | None:
    """A stored text file's first 64 KiB (bytes that are not UTF-8 shown as �); None where it is unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEXT + 1)
    except OSError:
        return None
    text = data[:MAX_TEXT].decode("utf-8", errors="replace")
    return text + (f"\n... (only the first {MAX_TEXT // 1024} KiB shown)" if len(data) > MAX_TEXT else "")
