"""A study's worker processes end with the command: SIGKILL of the command alone (as `kill -9 PID` or the
out-of-memory killer sends it; the process group is not told) leaves no worker training on, and the same
command then completes the study with every member once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONFIGS, run_folders, session_processes

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)


def members(runs_dir: Path) -> list[dict]:
    (folder,) = [p for p in run_folders(runs_dir) if "-sweep-" in p.name]
    return json.loads((folder / "study.json").read_text())["members"]


def test_sigkill_of_the_command_leaves_no_worker_and_the_same_command_completes_it(tmp_path):
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "dltool", "sweep", str(CONFIGS / "linreg_airfoil_torch.yaml"),
               "--grid", "optimizer.lr=0.01,0.02,0.03,0.04", "--set", "train.epochs=40", "--jobs", "2",
               "--engine", "process", "--runs-dir", str(runs_dir), "-q"]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until both workers train a member
        training = [p for p in run_folders(runs_dir) if (p / "metrics.jsonl").is_file() and "-sweep-" not in p.name]
        if len(training) >= 2:
            break
        time.sleep(0.05)
    assert len(session_processes(process.pid)) >= 3  # the command, its worker server, two workers
    process.send_signal(signal.SIGKILL)  # the command only: its workers are not signalled
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(process.pid) == []

    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    entries = members(runs_dir)
    assert [m["status"] for m in entries] == ["completed"] * 4
    assert len({m["run_id"] for m in entries}) == 4  # each member once
