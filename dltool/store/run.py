"""RunStore: run ids and folders, status, metrics writers, atomic writes, listing.

Everything a run shows later is read back from these files, so they are written to survive a
crash: small files are replaced atomically, metrics are appended and flushed line by line.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dltool.config import Config
from dltool.errors import UsageError, did_you_mean
from dltool.store.files import atomic_write_json, atomic_write_text, read_json


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
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def default_runs_dir() -> Path:
    return Path(os.environ.get("DLTOOL_RUNS_DIR", "runs"))


def read_metrics(path: Path) -> list[dict]:
    """Every complete record of a metrics.jsonl; a partial last line (a killed run) is skipped."""
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return records
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not is_zombie(pid)


def is_zombie(pid: int) -> bool:
    """A process that has ended but not yet been reaped by its parent (Linux; elsewhere: False)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"  # the state follows the name, which may hold spaces


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
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        self.write_csv(record)

    def write_csv(self, record: dict) -> None:
        self._csv.writerow({key: ("" if record.get(key) is None else record[key]) for key in METRIC_FIELDS})
        self._csv_file.flush()

    def close(self) -> None:
        self._jsonl.close()
        self._csv_file.close()


@dataclass
class Run:
    """One run folder and the files in it."""

    folder: Path

    @property
    def id(self) -> str:
        return self.folder.name

    def path(self, name: str) -> Path:
        return self.folder / name

    def status(self) -> dict:
        return read_json(self.path(RUN_FILES.status)) or {"status": "unknown"}

    def shown_status(self) -> str:
        """The status a user should see: a 'running' run whose process is gone has crashed."""
        return shown_status(self.status())

    def set_status(self, status: str, replace: bool = False, **fields: Any) -> None:
        """Update status.json (atomically); `replace` drops what an earlier attempt recorded (resume)."""
        data = {**({} if replace else self.status()), "status": status, **fields}
        atomic_write_json(self.path(RUN_FILES.status), data)

    def fail_if_running(self, error: str) -> bool:
        """Mark a run whose process died without recording its end as failed; False if it had recorded one."""
        if self.status().get("status") != "running":
            return False
        self.set_status("failed", ended=now_iso(), error=error)
        return True

    def summary(self) -> dict:
        return read_json(self.path(RUN_FILES.summary)) or {}

    def config(self) -> dict:
        """The saved config as plain data. libyaml's safe loader where PyYAML has it: `dltool runs`
        reads one per run, and the pure-Python parser takes 3 ms each (3 s over 1000 runs)."""
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            return yaml.load(self.path(RUN_FILES.config).read_text(encoding="utf-8"), Loader=loader) or {}
        except (OSError, yaml.YAMLError):
            return {}

    def card(self) -> dict:
        """{'model': {name, impl}, 'optimizer': {name, impl}}: from status.json, or the config for
        runs made before status.json carried them."""
        status = self.status()
        if "model" in status and "optimizer" in status:
            return {"model": status["model"], "optimizer": status["optimizer"]}
        config = self.config()
        return {"model": config.get("model", {}), "optimizer": config.get("optimizer", {})}

    def snapshot(self) -> RunSnapshot:
        return RunSnapshot(self, load_config_of(self), self.status(), self.summary(), self.metrics())

    def metrics(self) -> list[dict]:
        return read_metrics(self.path(RUN_FILES.metrics))

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
    own keys stay as they were saved); it is None where config.yaml is missing or not a valid config."""

    run: Run
    config: Config | None
    status: dict
    summary: dict
    metrics: list[dict]

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def shown_status(self) -> str:
        return shown_status(self.status)

    @property
    def eval_split(self) -> str | None:
        """The split a run is judged on ('test', 'full'), as its summary names it."""
        return self.summary.get("eval_split")


def shown_status(status: dict) -> str:
    """The status a user should see, from status.json's content: a 'running' run whose process is gone
    has crashed."""
    if status.get("status") == "running" and not pid_alive(status.get("pid")):
        return "crashed"
    return status.get("status", "unknown")


def load_config_of(run: Run) -> Config | None:
    """A stored config, validated by the schema alone (no registries, so no torch): None if unreadable."""
    from pydantic import ValidationError

    raw = run.config()
    try:
        return Config.model_validate(raw) if raw else None
    except ValidationError:
        return None


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

    def create(self, label: str, optimizer: str) -> Run:
        """A new run folder, made with mkdir so two processes can never get the same one."""
        self.check_writable()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for _ in range(100):
            folder = self.root / f"{stamp}-{label}-{optimizer}-{secrets.token_hex(2)}"
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return Run(folder)
        raise UsageError(f"could not make a unique run folder in '{self.root}'")

    def list(self) -> list[Run]:
        """All runs, newest first (ids share their second; the creation time in status.json breaks ties)."""
        if not self.root.is_dir():
            return []
        runs = [Run(p) for p in self.root.iterdir() if p.is_dir() and (p / RUN_FILES.status).exists()]
        return sorted(runs, key=lambda run: (run.id[:15], run.status().get("created", 0.0), run.id), reverse=True)

    def resolve(self, run_id: str) -> Run:
        """A run by id, unique prefix or 'latest'; unknown and ambiguous ids get a helpful error."""
        if not RUN_ID_PATTERN.match(run_id) or ".." in run_id:
            raise UsageError(f"'{run_id}' is not a run id (ids have no path separators or '..'); see 'dltool runs'")
        runs = self.list()
        if run_id == "latest":
            if not runs:
                raise UsageError(f"no runs in '{self.root}' yet; start one with 'dltool train CONFIG'")
            return runs[0]
        exact = [run for run in runs if run.id == run_id]
        if exact:
            return exact[0]
        matches = [run for run in runs if run.id.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(run.id for run in matches[:10])
            raise UsageError(f"run id prefix '{run_id}' is ambiguous: it matches {listed}; give more characters")
        hint = did_you_mean(run_id, [run.id for run in runs])
        raise UsageError(f"no run '{run_id}' in '{self.root}'{hint}; 'dltool runs' lists them")


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
