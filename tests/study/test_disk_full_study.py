"""A full disk during a study (Faults): the command ends with one line naming the path (no traceback), the
study's index stays readable with every member that ended, and once there is space the same command
continues it: the member the disk stopped trains again, none that ended does, and the study completes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import CONFIGS, run_folders

COMMAND = [sys.executable, "-m", "dltool", "sweep", str(CONFIGS / "linreg_airfoil_scratch.yaml"),
           "--grid", "optimizer.lr=0.01,0.02,0.03,0.05,0.1,0.2", "--set", "train.epochs=3", "--jobs", "1",
           "--engine", "process", "-q"]  # fmt: skip


def members(study) -> list[tuple[str, str]]:
    return [(m["status"], m["run_id"]) for m in json.loads((study / "study.json").read_text())["members"]]


def test_a_sweep_stopped_by_a_full_disk_continues_with_the_same_command(small_disk):
    stats = os.statvfs(small_disk)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 300 * 1024))  # room for about five members
    runs = small_disk / "runs"
    full = subprocess.run([*COMMAND, "--runs-dir", str(runs)], capture_output=True, text=True)
    assert full.returncode != 0
    assert "Traceback" not in full.stderr and "no space left on the disk of /" in full.stderr, full.stderr
    (study,) = [path for path in run_folders(runs) if "-sweep-" in path.name]
    before = members(study)  # still readable: the index was never left half-written
    ended = {run for status, run in before if status == "completed"}
    assert 0 < len(ended) < 6 and not list(runs.rglob(".*.tmp"))

    filler.unlink()
    again = subprocess.run([*COMMAND, "--runs-dir", str(runs)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    after = members(study)
    assert [status for status, _ in after] == ["completed"] * 6
    assert ended <= {run for _, run in after}  # no member that had ended was trained again
