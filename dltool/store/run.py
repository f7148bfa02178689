"""RunStore: run ids and folders, status, metrics writers, atomic writes, listing.

Everything a run shows later is read back from these files, so they are written to survive a
crash: small files are replaced atomically, metrics are appended and flushed line by line. Writers
and readers share the typed models of store/records.py and store/metrics.py: what a damaged file
still holds is used, and what is wrong with it is said (RunState, RunSnapshot).
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dltool.config import Config
from dltool.errors import UsageError
from dltool.files import atomic_write_json, atomic_write_text, disk_full, write_in_place
from dltool.store.config_file import legacy_card, load_saved_config
from dltool.store.ids import check_id, newest_first, pick
from dltool.store.layout import nested_members
from dltool.store.metrics import check_metric, read_metrics
from dltool.store.process import is_zombie as is_zombie  # re-exported: what a run records of its process
from dltool.store.process import pid_alive
from dltool.store.process import this_process as this_process
from dltool.store.records import StatusRecord, SummaryRecord, read_record
from dltool.store.staging import hidden, made_whole


@dataclass(frozen=True)
class RunFiles:
    """The names of a run folder's files: the only place they are written down."""

    config: str = "config.yaml"
    status: str = "status.json"
    env: str = "env.json"
    metrics: str = "metrics.jsonl"
    metrics_csv: str = "metrics.csv"
    summary: str = "summary.json"
    checkpoints: str = "checkpoints"
    checkpoint: str = "checkpoints/last.pt"
    predictions: str = "predictions.npz"
    error_log: str = "error.log"
    plots: str = "plots"
    tensorboard: str = "tensorboard"


RUN_FILES = RunFiles()
METRIC_FIELDS = ("step", "epoch", "examples", "time", "split", "loss", "acc", "lr")


def default_runs_dir() -> Path:
    return Path(os.environ.get("DLTOOL_RUNS_DIR", "runs"))


class MetricsWriter:
    """metrics.jsonl and metrics.csv, appended and flushed record by record."""

    def __init__(self, folder: Path) -> None:
        csv_path = folder / RUN_FILES.metrics_csv
        new_csv = not csv_path.exists()
        # open for the whole run (closed by close()): a record is appended and flushed as it comes
        self._jsonl = open(folder / RUN_FILES.metrics, "a", encoding="utf-8")  # noqa: SIM115
        self._csv_file = open(csv_path, "a", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.DictWriter(self._csv_file, fieldnames=METRIC_FIELDS, extrasaction="ignore")
        if new_csv:
            self._csv.writeheader()

    def write(self, record: dict) -> None:
        # Non-finite numbers (a diverging run) become null: NaN/Infinity are not JSON.
        record = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        check_metric(record)  # what readers accept
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        self.write_csv(record)

    def write_csv(self, record: dict) -> None:
        self._csv.writerow({key: ("" if record.get(key) is None else record[key]) for key in METRIC_FIELDS})
        self._csv_file.flush()

    def close(self) -> None:
        self._jsonl.close()
        self._csv_file.close()


@dataclass(frozen=True)
class RunState:
    """status.json and summary.json, read and validated once: what `dltool runs` lists of a run.
    A damaged file reads as empty, and `damage` says what is wrong with it."""

    status: dict
    summary: dict
    damage: tuple[str, ...] = ()

    @property
    def shown_status(self) -> str:
        return "damaged" if self.damage else shown_status(self.status)


@dataclass
class Run:
    """One run folder and the files in it."""

    folder: Path

    @property
    def id(self) -> str:
        return self.folder.name

    def path(self, name: str) -> Path:
        return self.folder / name

    def read_status(self) -> tuple[dict, str | None]:
        """status.json as written, and what is wrong with it (None when it is sound or missing)."""
        return read_record(self.path(RUN_FILES.status), StatusRecord)

    def status(self) -> dict:
        """status.json as written; {} where it is missing or damaged."""
        return self.read_status()[0]

    def state(self) -> RunState:
        (status, bad_status), (summary, bad_summary) = self.read_status(), self.read_summary()
        return RunState(status, summary, tuple(filter(None, (bad_status, bad_summary))))

    def shown_status(self) -> str:
        """The status a user should see: `damaged`, or `crashed` for a 'running' run whose process is gone."""
        return self.state().shown_status

    def set_status(self, status: str, replace: bool = False, **fields: Any) -> None:
        """Update status.json (atomically); `replace` drops what an earlier attempt recorded (resume)."""
        data = {**({} if replace else self.status()), "status": status, **fields}
        StatusRecord.model_validate(data)  # what readers accept
        try:
            atomic_write_json(self.path(RUN_FILES.status), data)
        except OSError as exc:
            if not disk_full(exc):
                raise
            write_in_place(self.path(RUN_FILES.status), json.dumps(data, indent=2) + "\n")  # else `running` forever

    def fail_if_running(self, error: str) -> bool:
        """Mark a run whose process died without recording its end as failed; False if it had recorded one."""
        if self.status().get("status") != "running":
            return False
        self.set_status("failed", ended=now_iso(), error=error)
        return True

    def read_summary(self) -> tuple[dict, str | None]:
        return read_record(self.path(RUN_FILES.summary), SummaryRecord)

    def summary(self) -> dict:
        return self.read_summary()[0]

    def write_summary(self, summary: dict) -> None:
        SummaryRecord.model_validate(summary)  # what readers accept
        atomic_write_json(self.path(RUN_FILES.summary), summary)

    def card(self, status: dict | None = None) -> dict:
        """{'model': {name, impl}, 'optimizer': {name, impl}}: from status.json (`status` where it has
        been read), or the config for runs made before status.json carried them."""
        status = self.status() if status is None else status
        if "model" in status and "optimizer" in status:
            return {"model": status["model"], "optimizer": status["optimizer"]}
        return legacy_card(self.path(RUN_FILES.config))

    def snapshot(self) -> RunSnapshot:
        config, bad_config = load_saved_config(self.path(RUN_FILES.config))
        metrics, bad_metrics = read_metrics(self.path(RUN_FILES.metrics))
        state = self.state()
        damage = state.damage + tuple(filter(None, (bad_config, bad_metrics)))
        return RunSnapshot(self, config, state, metrics, damage)

    def metrics(self) -> list[dict]:
        """The valid records of metrics.jsonl."""
        return read_metrics(self.path(RUN_FILES.metrics))[0]

    def truncate_metrics(self, step: int) -> None:
        """Keep only the records up to `step` (the checkpoint a resumed run continues from)."""
        kept = [record for record in self.metrics() if record["step"] <= step]
        atomic_write_text(self.path(RUN_FILES.metrics), "".join(json.dumps(r) + "\n" for r in kept))
        self.path(RUN_FILES.metrics_csv).unlink(missing_ok=True)
        writer = MetricsWriter(self.folder)
        for record in kept:
            writer.write_csv(record)
        writer.close()


@dataclass(frozen=True)
class RunSnapshot:
    """What a run's files held when it was read: each file read once. Readers (show, plot, studies)
    take a snapshot, never paths or raw dicts. `config` is validated by the schema (the entries'
    own keys stay as they were saved); it is None where config.yaml is missing or not a valid config.
    `metrics` holds the valid records only; `damage` says, file by file, what could not be used."""

    run: Run
    config: Config | None
    state: RunState
    metrics: list[dict]
    damage: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def status(self) -> dict:
        return self.state.status

    @property
    def summary(self) -> dict:
        return self.state.summary

    @property
    def shown_status(self) -> str:
        return self.state.shown_status

    @property
    def eval_split(self) -> str | None:
        """The split a run is judged on ('test', 'full'), as its summary names it."""
        return self.summary.get("eval_split")

    def damage_of(self, name: str) -> str | None:
        """What is wrong with the file `name` (a RUN_FILES name); None where it is sound."""
        return next((reason for reason in self.damage if reason.startswith(name)), None)


def shown_status(status: dict) -> str:
    """The status a user should see, from status.json's content: a 'running' run whose process is gone
    (or whose pid now belongs to another process) has crashed."""
    if status.get("status") == "running" and not pid_alive(status.get("pid"), status.get("pid_start")):
        return "crashed"
    return status.get("status", "unknown")


class RunStore:
    """The runs folder: creates run folders with unique ids and finds them again."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()

    def check_writable(self) -> None:
        """Fail before training if runs cannot be stored, with a message that says where."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"runs folder '{self.root}' cannot be created ({exc.strerror}); use --runs-dir") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise UsageError(f"runs folder '{self.root}' is not writable; use --runs-dir or DLTOOL_RUNS_DIR")

    def create(self, label: str, optimizer: str, fill: Callable[[Run], None] | None = None) -> Run:
        """A new folder, never another process's, with what `fill` writes in it before it appears under its
        name (dltool.store.staging); without `fill` empty (a study's, which writes its study.json next)."""
        self.check_writable()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        names = (f"{stamp}-{label}-{optimizer}-{secrets.token_hex(2)}" for _ in range(100))
        return Run(made_whole(self.root, names, lambda folder: fill(Run(folder)) if fill else None))

    def folders(self) -> list[Path]:
        """Every folder in the runs folder (runs, studies, anything else), and the member runs inside each
        study's members/ folder."""
        if not self.root.is_dir():
            if self.root.exists():
                raise UsageError(
                    f"runs folder '{self.root}' is a file, not a folder of runs; give a folder with --runs-dir"
                )
            return []
        try:
            top = [path for path in self.root.iterdir() if path.is_dir() and not hidden(path)]
        except OSError as exc:
            raise UsageError(f"runs folder '{self.root}' cannot be read ({exc.strerror})") from None
        return top + [path for folder in top for path in nested_members(folder)]

    def list(self) -> list[Run]:
        """All runs, newest first."""
        runs = [Run(path) for path in self.folders() if (path / RUN_FILES.status).exists()]
        return sorted(runs, key=lambda run: newest_first(run.id, run.status().get("created")), reverse=True)

    def states(self) -> list[tuple[Run, RunState]]:
        """All runs, newest first, each with its status.json and summary.json read once (`dltool runs`)."""
        runs = [Run(path) for path in self.folders() if (path / RUN_FILES.status).exists()]
        listed = [(run, run.state()) for run in runs]
        return sorted(listed, key=lambda item: newest_first(item[0].id, item[1].status.get("created")), reverse=True)

    def resolve(self, run_id: str) -> Run:
        """A run by id, unique prefix or 'latest'; unknown and ambiguous ids get a helpful error."""
        check_id(run_id)  # before the folder is read
        return pick(self.list(), run_id, self.root)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
