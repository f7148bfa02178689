"""Two identical sweeps started together (Faults): the plan is claimed atomically (a lock the kernel drops
when its process ends), so one runs it and the other says it is running, or finds it done; every member is
trained once, in all of 20 tries. A claim is released when its sweep ends, and by a process killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import CONFIGS, run_folders

from dltool.study.claims import claim

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)


SWEEP = [sys.executable, "-m", "dltool", "sweep", str(CONFIGS / "linreg_airfoil_scratch.yaml"),
         "--grid", "optimizer.lr=0.01,0.03", "--set", "train.epochs=1", "--jobs", "1", "-q"]  # fmt: skip


def test_two_identical_sweeps_started_together_train_each_member_once(tmp_path):
    for attempt in range(20):
        runs = tmp_path / f"try-{attempt}"
        both = [subprocess.Popen([*SWEEP, "--runs-dir", str(runs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]  # fmt: skip
        codes = [process.wait(timeout=300) for process in both]
        errors = [process.stderr.read() for process in both]
        assert sorted(codes) in ([0, 0], [0, 2]), (codes, errors)
        if 2 in codes:
            assert "a sweep with this plan is running in another process" in errors[codes.index(2)]
        members = [p for p in run_folders(runs) if "-sweep-" not in p.name]
        assert len(members) == 2, (attempt, [p.name for p in run_folders(runs)])  # each member trained once
        assert len([p for p in run_folders(runs) if "-sweep-" in p.name]) == 1


def test_a_claim_is_released_by_its_sweep_and_by_a_killed_process(tmp_path):
    held = claim(tmp_path, "sweep", "abc")
    assert held is not None and claim(tmp_path, "sweep", "abc") is held  # this process holds it
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from dltool.study.claims import claim; import pathlib, time; "
         f"claim(pathlib.Path({str(tmp_path)!r}), 'sweep', 'other'); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    assert claim(tmp_path, "sweep", "other") is None  # another process holds it
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while claim(tmp_path, "sweep", "other") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert claim(tmp_path, "sweep", "other") is not None  # the kernel released the dead process's lock
    held.release()
    assert claim(tmp_path, "sweep", "abc") is not None
