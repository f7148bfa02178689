"""A full disk is an error like any other (Faults): on a small tmpfs, training that runs out of space ends
with one line naming the folder (no traceback), the run is marked `failed` with its last checkpoint, and once
there is space `dltool train --resume` continues it to the end an uninterrupted run reaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import CONFIGS, run_folders

COMMAND = [sys.executable, "-m", "dltool", "train", str(CONFIGS / "linreg_airfoil_scratch.yaml"),
           "--set", "train.epochs=40", "-q"]  # fmt: skip


def final(run) -> dict:
    return json.loads((run / "summary.json").read_text())["final"]


def test_a_full_disk_fails_the_run_in_one_line_and_resume_finishes_it(small_disk, tmp_path):
    whole = subprocess.run([*COMMAND, "--runs-dir", str(tmp_path / "whole")], capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    stats = os.statvfs(small_disk)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 96 * 1024))  # a checkpoint (24 KiB) and some epochs
    runs = small_disk / "runs"

    full = subprocess.run([*COMMAND, "--runs-dir", str(runs)], capture_output=True, text=True)
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr and "no space left on the disk of" in full.stderr, full.stderr
    (run,) = run_folders(runs)
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and status["step"] < 40 * 150
    assert (run / "checkpoints" / "last.pt").is_file() and not list(run.rglob(".*.tmp"))  # no half-written file

    filler.unlink()
    resumed = subprocess.run([*COMMAND[:4], "--resume", run.name, "--runs-dir", str(runs), "-q"],
                             capture_output=True, text=True)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    (reference,) = run_folders(tmp_path / "whole")
    assert final(run) == pytest.approx(final(reference), rel=1e-6)
