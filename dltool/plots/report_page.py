"""report.html: a run or a study on one self-contained page: its plots/ pictures as data: URIs (drawn first
where missing), inline CSS, no JavaScript, no external URL (its Content-Security-Policy forbids any load).
Read from stored files only (never imports torch); every stored text is escaped."""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import itertools
import re
from pathlib import Path

import yaml

from dltool import __version__
from dltool.errors import DltoolError, UsageError
from dltool.store.files import atomic_write_text, read_json
from dltool.store.items import Item
from dltool.store.run import RUN_FILES, Run, RunSnapshot, now_iso
from dltool.store.study import STUDY_FILES, StudyFolder

REPORT_NAME = STUDY_FILES.report  # a run's page has the same name
MAX_TEXT = 1 << 16  # bytes of a stored text file (config.yaml, results.md) put on the page
STATUS_CLASSES = {"completed": "ok", "running": "run", "pending": "wait"}  # interrupted, pruned...: "warn"
STATUS_CLASSES |= dict.fromkeys(("failed", "diverged", "crashed", "damaged"), "bad")
SEPARATOR = re.compile(r"^\|?(\s*:?-{3,}:?\s*\|)*\s*:?-{3,}:?\s*\|?$")  # |---|---| under a table's headings
HEADING = re.compile(r"^(#{1,4}) (.*)$")  # '## Member runs'
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
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px; font-size: 13px; text-align: center; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid #d1d9e0; font-size: 13px; color: #59636e; }
"""


def write_report(item: Item, out: Path | None = None) -> Path:
    """report.html in the item's folder (or `out`), written atomically; its path."""
    path = item.folder / REPORT_NAME if out is None else Path(out)
    if out is not None and path.is_dir():
        raise UsageError(f"--out '{out}' is a folder; give a file name, e.g. --out {path / REPORT_NAME}")
    if not path.parent.is_dir():
        raise UsageError(f"--out '{out}': the folder '{path.parent}' does not exist")
    text = build_report(item)  # before the file is touched: a failure leaves none behind
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write the report to '{path}' ({exc.strerror})") from None
    return path


def build_report(item: Item) -> str:
    """The page of a run or a study, as HTML."""
    if isinstance(item, StudyFolder):
        return page(f"{item.noun} {item.id}", item.record.header.title, item.record.shown_status, study_sections(item))
    snapshot = item.snapshot()
    return page(f"run {item.id}", card_text(item.card(snapshot.status)), snapshot.shown_status, run_sections(snapshot))


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


def study_sections(study: StudyFolder) -> list[str]:
    record, header = study.record, study.record.header
    done, total = record.progress()
    rows = [("status", record.shown_status), ("progress", f"{done}/{total} member runs ended")]
    rows += [("started", header.started)]
    end = record.end
    rows += [("ended", end.ended), ("wall time (s)", end.wall_time_s), ("against", end.target_text)] if end else []
    rows += [("folder", study.folder)]
    first = next((run for run in map(study.member_run, record.members) if run is not None), None)
    return [
        f'<div class="columns">{section("Overview", kv_table(rows))}{section("Plan", plan_html(study))}</div>',
        section("Results", study_results(study)),
        section("Plots", figures(study_pictures(study))),
        section("Member runs", members_table(study)),
        section("Versions", env_table(first) if first else muted("no member run has started yet")),
    ]


def plan_html(study: StudyFolder) -> str:
    """What the study runs: a comparison's header fields, or a sweep's or tuning study's own plan."""
    header, members = study.record.header, study.record.members
    rows = [("source", header.source), ("seeds", header.seeds), ("jobs", header.jobs)]
    if study.kind == "compare":
        rows += [("problem", header.problem), ("objective", header.objective)]
        rows += [("optimizers", ", ".join(dict.fromkeys(member.optimizer for member in members)))]
        rows += [("impl", ", ".join(dict.fromkeys(member.impl for member in members)))]
        rows += [("lr scan", header.lr_scan), ("batch scan", header.batch_scan), ("target loss", header.given_target)]
    nested = {key: value for key, value in header.plan.items() if isinstance(value, dict | list)}
    rows += [(key, value) for key, value in header.plan.items() if key not in nested]
    dump = functools.partial(yaml.safe_dump, default_flow_style=False, sort_keys=False, allow_unicode=True)
    blocks = "".join(f"<h3>{esc(key)}</h3><pre>{esc(dump(value))}</pre>" for key, value in nested.items())
    return kv_table(rows) + blocks


def study_results(study: StudyFolder) -> str:
    """results.md as HTML, less its title (the page's) and its member runs (their own section)."""
    text = read_text(study.path(STUDY_FILES.verdict))
    if text is None:
        return muted(f"no {STUDY_FILES.verdict} yet: the {study.noun} has not ended")
    text = re.sub(r"^# .*\n", "", text)
    return markdown_html(re.sub(r"(?ms)^## Member runs$.*", "", text))


def members_table(study: StudyFolder) -> str:
    rows = []
    for member in study.record.members:
        status = f"<td>{badge(member.status)} {esc(member.error or '')}</td>"
        rows.append([cell(member.group), cell(member.seed), cell(f"`{member.run_id or '-'}`", inline), status])
    return table(["member", "seed", "run id", "status"], rows)


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
    return sorted(folder.glob("*.png"))


def study_pictures(study: StudyFolder) -> list[Path]:
    """The study's PNG pictures; redrawn where plots/ has none (none at all where no member has a result)."""
    folder = study.path(STUDY_FILES.plots)
    if not any(folder.glob("*.png")):
        from dltool.study.figures import redraw_plots

        with contextlib.suppress(DltoolError):  # nothing to plot yet: the page says so
            redraw_plots(study)
    return sorted(folder.glob("*.png"))


def figures(paths: list[Path]) -> str:
    """Each picture inlined as a data: URI, its file name under it."""
    items = []
    for path in paths:
        with contextlib.suppress(OSError):
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            image = f'<img src="data:image/png;base64,{data}" alt="{esc(path.stem)}">'
            items.append(f"<figure>{image}<figcaption>{esc(path.name)}</figcaption></figure>")
    return f'<div class="figures">{"".join(items)}</div>' if items else muted("no pictures yet (no metrics recorded)")


def markdown_html(text: str) -> str:
    """The Markdown dltool writes (results.md): `| a | b |` tables, headings (two levels down: the page has
    h1 and h2) and one-line paragraphs."""
    blocks = []
    for is_table, group in itertools.groupby(text.splitlines(), key=lambda line: line.strip().startswith("|")):
        lines = [line.strip() for line in group if line.strip()]
        if is_table:
            blocks.append(markdown_table(lines))
            continue
        for match, line in ((HEADING.match(line), line) for line in lines):
            tag = f"h{len(match.group(1)) + 2}" if match else "p"
            blocks.append(f"<{tag}>{inline(match.group(2) if match else line)}</{tag}>")
    return "\n".join(blocks)


def markdown_table(lines: list[str]) -> str:
    """A `| a | b |` table: the row above a |---| line is the head; the winner's (★) row is marked."""
    has_head = len(lines) > 1 and bool(SEPARATOR.match(lines[1])) and not SEPARATOR.match(lines[0])
    rows = [cells(line) for line in lines if not SEPARATOR.match(line)]
    body = rows[1:] if has_head else rows
    marked = {index for index, row in enumerate(body) if row[0] == "★"}
    return table(rows[0] if has_head else None, [[cell(text, inline) for text in row] for row in body], marked)


def cells(line: str) -> list[str]:
    r"""'| a | b \| c |' -> ['a', 'b | c']: a pipe escaped with a backslash is part of its cell."""
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)]


def inline(text: str) -> str:
    """Escaped text with its `code` spans and **bold** runs marked up."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def table(headings: list[str] | None, rows: list[list[str]], marked: set[int] = frozenset()) -> str:
    """A table of cells already made (<td>...</td>); `marked` rows are highlighted (a study's winner)."""
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
    shown = [(key, badge(value) if key == "status" else esc(fmt(value))) for key, value in rows if value is not None]
    body = "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in shown if value)
    return f'<table class="kv"><tbody>{body}</tbody></table>' if body else ""


def fmt(value: object) -> str:
    """Floats to 6 significant digits (from 10,000: one decimal, thousands separated), ints separated."""
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
