"""Damaged run folders (issue 17): each damaged input built here, and what runs, show, plot and
--resume make of it. A damaged file is named with what is wrong with it; the other runs, and the
rest of the damaged run's files, are shown as usual; nothing on disk is changed by reading it."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from dltool.cli import app
from dltool.files import read_json
from dltool.store.process import is_zombie, pid_alive, process_start, this_process
from dltool.store.run import MetricsWriter, Run
from dltool.store.study import StudyFolder
from dltool.train import run as training
from tests.conftest import CONFIGS, only_run, write

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """Resumed runs draw no pictures here (a second each; `plot` is what is tested)."""
    monkeypatch.setattr(training, "draw_run_plots", lambda run: None)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One finished airfoil run (1 epoch, 17 records, a checkpoint) to copy into each test's runs folder."""
    runs = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(training, "draw_run_plots", lambda run: None)
        args = ["train", str(AIRFOIL), "--runs-dir", str(runs), "-q", "--set", "train.epochs=1"]
        assert CliRunner().invoke(app, args, catch_exceptions=False).exit_code == 0
    return only_run(runs)


def copy_run(template: Path, runs_dir: Path, suffix: str = "") -> Path:
    folder = runs_dir / (template.name + suffix)
    shutil.copytree(template, folder)
    return folder


def set_status(folder: Path, **fields) -> None:
    status = json.loads((folder / "status.json").read_text())
    write(folder / "status.json", json.dumps({**status, **fields}))


def listed(dltool, *args: str) -> dict[str, dict]:
    result = dltool("runs", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)}


def snapshot_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


BAD_STATUS = {
    "a list": (b"[1,2,3]", "status.json is not a JSON object (it holds a list)"),
    "a string": (b'"completed"', "status.json is not a JSON object (it holds a string)"),
    "pid only, a string": (b'{"pid": "abc"}', "status.json: status is missing"),
    "invalid UTF-8": (b'{"status": "\xff"}', "status.json is not UTF-8 text"),
    "truncated": (b'{"status": "compl', "status.json is not valid JSON"),
    "empty": (b"", "status.json is not valid JSON"),
    "unknown status": (b'{"status": "exploded"}', "status.json: status: value error"),
    "a process group pid": (b'{"status": "running", "pid": -1}', "status.json: pid:"),
    "nested too deep": (b"[" * 100_000, "status.json is not valid JSON"),
}


@pytest.mark.parametrize("content, reason", BAD_STATUS.values(), ids=BAD_STATUS.keys())
def test_a_damaged_status_json_is_listed_as_damaged_and_shown(dltool, runs_dir, template, content, reason):
    good, bad = copy_run(template, runs_dir, "0"), copy_run(template, runs_dir, "1")
    (bad / "status.json").write_bytes(content)
    before = snapshot_of(bad)

    rows = listed(dltool)
    assert rows[good.name]["status"] == "completed" and rows[good.name]["damage"] is None
    assert rows[bad.name]["status"] == "damaged" and reason in rows[bad.name]["damage"]
    assert list(listed(dltool, "--status", "damaged")) == [bad.name]
    assert list(listed(dltool, "--status", "completed")) == [good.name]
    table = dltool("runs")
    assert table.exit_code == 0 and "damage" in table.output and good.name in table.output

    shown = dltool("show", bad.name)
    assert shown.exit_code == 0, shown.output
    assert f"damaged: {reason}" in shown.output
    assert "final: " in shown.output and "name: airfoil-scratch" in shown.output  # what it can still show

    plotted = dltool("plot", bad.name, "--out", runs_dir / "x.png")
    assert plotted.exit_code == 0, plotted.output
    resumed = dltool("train", "--resume", bad.name)
    assert resumed.exit_code == 2 and resumed.output.startswith("error: ")
    assert f"cannot be resumed: {reason}" in resumed.output and "dltool train " in resumed.output
    assert "Traceback" not in shown.output + plotted.output + resumed.output
    assert snapshot_of(bad) == before


def test_a_damaged_summary_json_is_listed_as_damaged(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    write(folder / "summary.json", json.dumps({"status": "completed", "final": {"full_loss": "low"}}))
    row = listed(dltool)[folder.name]
    assert row["status"] == "damaged" and row["eval_loss"] is None
    assert row["damage"] == "summary.json: final.full_loss: input should be a valid number, got 'low'"
    shown = dltool("show", folder.name)
    assert shown.exit_code == 0 and "damaged: summary.json" in shown.output and "step: 150" in shown.output


def metrics_lines(folder: Path) -> list[bytes]:
    return (folder / "metrics.jsonl").read_bytes().splitlines(keepends=True)


def test_damaged_metrics_records_are_skipped_counted_and_the_rest_plotted(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    good = metrics_lines(folder)
    bad = [b"[1, 2]\n", b'"a record"\n', b'{"split": "full", "loss": 1.0}\n', b'{"step": 1, "split": "\xff"}\n']
    bad += [b'{"step": "3", "split": "full"}\n', b"not json\n"]
    (folder / "metrics.jsonl").write_bytes(b"".join(good[:3] + bad + good[3:]))
    reason = (
        f"metrics.jsonl: 6 of {len(good) + 6} records skipped (not JSON objects, missing step, invalid UTF-8, "
        "invalid step, not JSON; the first at line 4)"
    )
    assert listed(dltool)[folder.name]["status"] == "completed"  # `runs` reads no metrics
    shown = dltool("show", folder.name)
    assert shown.exit_code == 0 and f"damaged: {reason}" in shown.output

    plotted = dltool("plot", folder.name, "--out", runs_dir / "x.png")
    assert plotted.exit_code == 0, plotted.output
    assert f"warning: run {folder.name}: {reason}; plotting the others" in plotted.stderr
    assert (runs_dir / "x.png").stat().st_size > 3000
    assert Run(folder).metrics() == [json.loads(line) for line in good]


def test_a_record_with_a_value_of_the_wrong_type_keeps_its_other_values(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    lines = metrics_lines(folder)
    record = json.loads(lines[2])
    lines[2] = (json.dumps({**record, "lr": "0.05", "x": ["a"]}) + "\n").encode()
    (folder / "metrics.jsonl").write_bytes(b"".join(lines))
    kept = Run(folder).metrics()[2]
    assert kept == {**record, "lr": None, "x": None}
    shown = dltool("show", folder.name)
    assert f"1 of {len(lines)} records hold values that are not numbers, left out (the first at line 3)" in shown.output


def test_a_partial_last_line_is_no_damage(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    path = folder / "metrics.jsonl"
    path.write_bytes(path.read_bytes() + b'{"step": 151, "epoch": 1.0')  # killed while writing it
    assert "damaged" not in dltool("show", folder.name).output
    plotted = dltool("plot", folder.name, "--out", runs_dir / "x.png")
    assert plotted.exit_code == 0 and "warning" not in plotted.stderr


def test_values_too_large_to_draw_are_left_out_of_the_plot(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    lines = metrics_lines(folder)
    record = json.loads(lines[1])
    huge = [{**record, "loss": sign * 1e308, "epoch": sign * 1e308} for sign in (1, -1)]
    lines[1:3] = [(json.dumps(record) + "\n").encode() for record in huge]
    (folder / "metrics.jsonl").write_bytes(b"".join(lines))
    options = (["--logy", "--out", runs_dir / "x.svg"], ["--metric", "lr", "--x", "time", "--out", runs_dir / "y.png"])
    for args in ([], *options):
        result = dltool("plot", folder.name, *args)
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("lines", [b"[1]\n", b'{"split": "full"}\n\xff\n', b"\n\n"])
def test_plot_with_no_valid_record_left_is_refused(dltool, runs_dir, template, lines):
    folder = copy_run(template, runs_dir)
    (folder / "metrics.jsonl").write_bytes(lines)
    result = dltool("plot", folder.name)
    assert result.exit_code == 2 and result.output.startswith("error: ") and "nothing to plot" in result.output
    assert not (folder / "plots").exists()


BAD_CONFIGS = {
    "invalid UTF-8": (b"\xff\xfe", "config.yaml: not a text file"),
    "a list": (b"[1, 2]\n", "config.yaml: expected a YAML mapping"),
    "a wrong type": (b"model: 3\n", "config.yaml is not a valid config (model:"),
    "a NUL byte": (b"seed: 0\x00\n", "config.yaml"),
    "missing": (None, "config.yaml is missing"),
}


@pytest.mark.parametrize("content, reason", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_a_damaged_config_is_shown_and_refuses_a_resume(dltool, runs_dir, template, content, reason):
    folder = copy_run(template, runs_dir)
    set_status(folder, status="interrupted")
    if content is None:
        (folder / "config.yaml").unlink()
    else:
        (folder / "config.yaml").write_bytes(content)
    before = snapshot_of(folder)
    shown = dltool("show", folder.name)
    assert shown.exit_code == 0 and f"damaged: {reason}" in shown.output and "interrupted" in shown.output
    assert dltool("plot", folder.name, "--out", runs_dir / "x.png").exit_code == 0
    resumed = dltool("train", "--resume", folder.name)
    assert resumed.exit_code == 2 and f"run '{folder.name}' cannot be resumed: " in resumed.output
    assert "Traceback" not in resumed.output and len(resumed.output.strip().splitlines()) == 1
    assert snapshot_of(folder) == before


# ---------------------------------------------------------------- process identity


def test_a_running_run_whose_pid_now_belongs_to_another_process_has_crashed_and_resumes(dltool, runs_dir, template):
    """This test's own process plays the process that got the dead run's pid: its start differs."""
    folder = copy_run(template, runs_dir)
    boot = process_start(os.getpid()).split(":")[0]
    set_status(folder, status="running", pid=os.getpid(), pid_start=f"{boot}:1")
    assert listed(dltool)[folder.name]["status"] == "crashed"
    assert list(listed(dltool, "--status", "crashed")) == [folder.name]
    resumed = dltool("train", "--resume", folder.name, "-q")
    assert resumed.exit_code == 0, resumed.output
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "completed" and status["pid_start"] == process_start(os.getpid())


def test_a_running_run_of_a_living_process_is_running(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    set_status(folder, status="running", **this_process())
    assert listed(dltool)[folder.name]["status"] == "running"
    refused = dltool("train", "--resume", folder.name)
    assert refused.exit_code == 2 and "is running" in refused.output


def test_a_status_json_without_the_start_is_judged_by_the_pid_alone(dltool, runs_dir, template):
    folder = copy_run(template, runs_dir)
    set_status(folder, status="running", pid=os.getpid())  # as runs recorded it before issue 17
    assert listed(dltool)[folder.name]["status"] == "running"


def test_process_start_tells_processes_apart_and_survives_odd_names():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        mine, theirs = process_start(os.getpid()), process_start(child.pid)
        assert mine and theirs and mine != theirs and mine.split(":")[0] == theirs.split(":")[0]
        assert pid_alive(child.pid, theirs) and not pid_alive(child.pid, mine)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid, theirs)
    for pid in (None, 0, -1, 2**40):
        assert not pid_alive(pid)
    assert not is_zombie(os.getpid())


def test_without_proc_the_pid_alone_decides(monkeypatch, tmp_path):
    from dltool.store import process

    monkeypatch.setattr(process, "PROC", tmp_path / "no-proc")
    assert process.process_start(os.getpid()) is None and process.this_process() == {"pid": os.getpid()}
    assert process.pid_alive(os.getpid(), "another-boot:1")


# ---------------------------------------------------------------- checkpoints, runs folders, writers


class Shell:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("kind", ["torch.save", "pickle"])
def test_a_tampered_checkpoint_is_named_in_one_line_without_torchs_advice(dltool, runs_dir, template, tmp_path, kind):
    folder = copy_run(template, runs_dir)
    set_status(folder, status="interrupted")
    marker = tmp_path / "executed"
    evil = {"model": Shell(f"touch {marker}")}
    checkpoint = folder / "checkpoints" / "last.pt"
    if kind == "pickle":
        checkpoint.write_bytes(pickle.dumps(evil))
    else:
        torch.save(evil, checkpoint)
    result = dltool("train", "--resume", folder.name)
    assert result.exit_code == 2 and not marker.exists()
    assert result.output.strip().splitlines() == [
        f"error: {checkpoint}: not a readable dltool checkpoint (it is damaged, or was not written by dltool); "
        f"start the run again instead: dltool train {folder / 'config.yaml'}"
    ]
    assert "weights_only" not in result.output


@pytest.mark.parametrize("command", [["runs"], ["show", "latest"], ["plot", "latest"], ["runs", "--status", "damaged"]])
def test_a_runs_folder_that_is_a_file_is_an_error(dltool, tmp_path, command):
    not_a_folder = write(tmp_path / "runs.txt", "hello")
    result = dltool(*command, "--runs-dir", not_a_folder)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: runs folder '{not_a_folder}' is a file, not a folder of runs; " + (
        "give a folder with --runs-dir"
    )


def test_good_runs_read_back_exactly_as_written(template):
    run = Run(template)
    assert run.status() == json.loads((template / "status.json").read_text())
    assert run.summary() == json.loads((template / "summary.json").read_text())
    lines = (template / "metrics.jsonl").read_text().splitlines()
    assert run.metrics() == [json.loads(line) for line in lines] and len(lines) == 17
    snapshot = run.snapshot()
    assert snapshot.damage == () and snapshot.config is not None and snapshot.shown_status == "completed"
    assert set(run.status()) >= {"status", "pid", "pid_start", "started", "created", "step", "model", "optimizer"}


def test_writers_refuse_what_readers_would_not_read(tmp_path):
    run = Run(tmp_path)
    with pytest.raises(ValueError):
        run.set_status("running", pid="abc")
    with pytest.raises(ValueError):
        run.set_status("exploded")
    with pytest.raises(ValueError):
        run.write_summary({"status": "completed", "final": {"loss": "low"}})
    writer = MetricsWriter(tmp_path)
    with pytest.raises(ValueError):
        writer.write({"step": 1, "split": "train", "loss": "high"})
    writer.write({"step": 1, "split": "train", "loss": float("nan"), "x": [1.0, 2.0]})  # NaN is written as null
    writer.close()
    assert run.metrics() == [{"step": 1, "split": "train", "loss": None, "x": [1.0, 2.0]}]
    assert not (tmp_path / "status.json").exists() and not (tmp_path / "summary.json").exists()


def test_json_readers_take_objects_only(tmp_path):
    for content in ("[1]", '"x"', "1", "null", "{"):
        assert read_json(write(tmp_path / "info.json", content)) is None
    assert read_json(write(tmp_path / "info.json", '{"a": 1}')) == {"a": 1}


@pytest.mark.parametrize(
    "record",
    [
        {"id": "c", "status": "running", "members": 5},
        {"id": "c", "status": "running", "members": [{"group": 1}]},
        {"id": 3, "status": "running", "members": []},
        {"id": "c", "status": "running", "problem": ["toy"], "members": []},
    ],
)
def test_a_damaged_comparison_record_reads_as_none(tmp_path, record):
    write(tmp_path / "study.json", json.dumps(record))
    assert StudyFolder.open(tmp_path) is None
