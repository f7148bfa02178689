"""Interrupt a real `dltool train` process and resume it: it ends exactly where it would have."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import CONFIGS, read_records, run_folders

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)

ARGS = [
    "--set",
    "data.num_examples=60000",
    "--set",
    "train.epochs=3",
    "--set",
    "train.eval_every_examples=20000",
    "--set",
    "optimizer.name=adam",
    "--set",
    "optimizer.lr=0.01",
    "--set",
    "schedule.name=exponential",
    "--set",
    "schedule.unit=step",
    "--set",
    "schedule.lam=0.0001",
    "-q",
]


def dltool_process(runs_dir: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DLTOOL_RUNS_DIR": str(runs_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "dltool", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def comparable(folder: Path) -> tuple[list[dict], dict]:
    records = [{k: v for k, v in r.items() if k != "time"} for r in read_records(folder)]
    state = torch.load(folder / "checkpoints" / "last.pt", weights_only=True)
    return records, state["model"]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_then_resumed_run_ends_bitwise_equal(tmp_path, signum, code):
    config = str(CONFIGS / "linreg_synthetic_scratch.yaml")
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    assert dltool_process(full_dir, "train", config, *ARGS).wait(timeout=300) == 0

    process = dltool_process(cut_dir, "train", config, *ARGS)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for the first evaluation after step 0, then interrupt
        folders = run_folders(cut_dir)
        if folders and (folders[0] / "metrics.jsonl").exists() and len(read_records(folders[0])) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    folder = run_folders(cut_dir)[0]
    status = json.loads((folder / "status.json").read_text())
    assert status["status"] == "interrupted" and 0 < status["step"] < 18000
    assert "--resume" in stderr and "Traceback" not in stderr

    resumed = dltool_process(cut_dir, "train", "--resume", folder.name)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert json.loads((folder / "status.json").read_text())["status"] == "completed"

    full_records, full_model = comparable(run_folders(full_dir)[0])
    cut_records, cut_model = comparable(folder)
    assert cut_records == full_records
    assert all(torch.equal(full_model[k], cut_model[k]) for k in full_model)


def test_resume_of_a_completed_run_is_refused(dltool, runs_dir):
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "-q").exit_code == 0
    result = dltool("train", "--resume", "latest")
    assert result.exit_code == 2 and "is completed" in result.output


def test_checkpoints_carry_python_and_numpy_random_states(tmp_path):
    """Besides torch's RNG and the data order, the host RNGs survive a weights_only round trip."""
    import random

    import numpy as np

    from dltool.train.checkpoint import host_rng_state, set_host_rng_state

    random.seed(3)
    np.random.seed(5)
    torch.save(host_rng_state(), tmp_path / "rng.pt")
    expected = (random.random(), np.random.rand(3).tolist())
    random.seed(99)
    np.random.seed(99)
    set_host_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), np.random.rand(3).tolist()) == expected
