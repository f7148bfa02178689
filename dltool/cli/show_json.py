"""`dltool show ID --format json`: one run or study as typed fields, for scripts.

A run: the fields of `dltool runs --format json` (cli/runs_table.FIELDS), then its folder, status
details, summary (final and best metrics, timings), plots and config. A study: the same row fields, its
folder and files, then study.json as stored (plan, members, and once it has ended its groups and results).
Numbers are numbers; null where there is none."""

from __future__ import annotations

import json

from dltool.cli.runs_table import run_row, study_row
from dltool.cli.views import study_files
from dltool.store.items import Item
from dltool.store.run import RUN_FILES, Run
from dltool.store.study import StudyFolder

SUMMARY_FIELDS = ("final", "best", "epoch_so_far", "steps", "examples", "train_time_s", "examples_per_s")
STATUS_FIELDS = ("ended", "step", "error", "diverged_at_step")


def run_fields(run: Run) -> dict:
    snapshot = run.snapshot()
    status, summary = snapshot.status, snapshot.summary
    plots = run.path(RUN_FILES.plots)
    return {
        **run_row(run, snapshot.state, study=status.get("study")),
        "folder": str(run.folder),
        "damage": "; ".join(snapshot.damage) or None,  # every file's, as `show` says; the runs row reads two
        **{key: status.get(key) for key in STATUS_FIELDS},
        **{key: summary.get(key) for key in SUMMARY_FIELDS},
        "eval_split": summary.get("eval_split"),
        "plots": [str(path) for path in sorted(plots.glob("*"))] if plots.is_dir() else [],
        "config": snapshot.config.model_dump(mode="json") if snapshot.config else None,
    }


def study_fields(study: StudyFolder) -> dict:
    stored = study.record.to_json()
    return {
        **study_row(study),
        "folder": str(study.folder),
        "files": [str(path) for path in study_files(study)[1:]],
        **{
            key: value
            for key, value in stored.items()
            if key not in ("id", "status", "kind", "started", "pid", "pid_start", "created")
        },
    }


def print_item_json(item: Item) -> None:
    fields = study_fields(item) if isinstance(item, StudyFolder) else run_fields(item)
    print(json.dumps(fields, indent=2))
