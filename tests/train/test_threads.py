"""The `threads` setting: a number pins torch's intra-op threads; `auto` shares the cores among live runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from dltool.study.plan import PlanRequest, plan_comparison
from dltool.train import threads as thread_module
from dltool.train.threads import LiveRuns, ThreadShare
from tests.conftest import CONFIGS, ctrl_c_inside_first_member, only_run, run_folders

LINREG = CONFIGS / "linreg_synthetic_scratch.yaml"


@pytest.fixture(autouse=True)
def keep_torch_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def sleeper():
    """Another live process, standing for a second dltool run."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def register_other(folder, pid: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / str(pid)).write_text("")


def test_a_number_reaches_torch_and_env_json(dltool, runs_dir):
    result = dltool("train", LINREG, "--threads", "3", "--set", "train.epochs=1", "--quiet")
    assert result.exit_code == 0, result.output
    env = json.loads((only_run(runs_dir) / "env.json").read_text())
    assert (env["threads"], env["torch_threads"]) == (3, 3)
    assert "threads: 3" in (only_run(runs_dir) / "config.yaml").read_text()  # the saved config repeats it


def test_auto_is_recorded_with_the_count_it_started_with(dltool, runs_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("DLTOOL_LIVE_RUNS", str(tmp_path / "live"))
    monkeypatch.setattr(thread_module, "cores_available", lambda: 2)
    assert dltool("train", LINREG, "--set", "train.epochs=1", "--quiet").exit_code == 0
    env = json.loads((only_run(runs_dir) / "env.json").read_text())
    assert (env["threads"], env["torch_threads"]) == ("auto", 2)
    assert list((tmp_path / "live").iterdir()) == []  # the run left the live runs when it ended


@pytest.mark.parametrize("value", ["0", "x", "2.5", "5000"])
def test_a_bad_thread_count_is_refused_before_anything_runs(dltool, runs_dir, value):
    result = dltool("train", LINREG, "--threads", value)
    assert result.exit_code == 2
    assert "expected auto or a number of threads from 1 to 1,024" in result.output
    assert run_folders(runs_dir) == []


def test_auto_takes_its_share_at_the_start_and_keeps_it(tmp_path, monkeypatch, sleeper):
    monkeypatch.setattr(thread_module, "cores_available", lambda: 4)
    live = LiveRuns(tmp_path / "live")
    with ThreadShare("auto", live):
        assert torch.get_num_threads() == 4
        register_other(live.folder, sleeper.pid)  # a run started later does not change this one's numbers
        assert torch.get_num_threads() == 4
    assert not (live.folder / str(os.getpid())).exists()  # this run left the live runs
    with ThreadShare("auto", live, count=3):  # a resumed run: the count its start recorded
        assert torch.get_num_threads() == 3


def test_runs_started_together_share_from_the_start(tmp_path, monkeypatch, sleeper):
    monkeypatch.setattr(thread_module, "cores_available", lambda: 2)
    live = LiveRuns(tmp_path / "live")
    register_other(live.folder, sleeper.pid)
    register_other(live.folder, 2**22)  # a pid no process has: a run that crashed does not count
    with ThreadShare("auto", live):
        assert torch.get_num_threads() == 1
    assert not (live.folder / str(2**22)).exists()  # the dead run's file is cleaned up


def test_a_pinned_count_and_a_users_omp_setting_are_never_changed(tmp_path, monkeypatch, sleeper):
    live = LiveRuns(tmp_path / "live")
    register_other(live.folder, sleeper.pid)
    with ThreadShare(3, live):
        assert torch.get_num_threads() == 3
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with ThreadShare("auto", live):
        assert torch.get_num_threads() == 1


def test_a_resumed_auto_run_trains_with_the_count_it_started_with(runs_dir, tmp_path, sleeper):
    if thread_module.cores_available() < 2:
        pytest.skip("needs two cores: a share that differs between the start and the resume")
    live = tmp_path / "live"
    env = {**os.environ, "DLTOOL_LIVE_RUNS": str(live)}
    command = [sys.executable, "-m", "dltool", "train", str(LINREG), "--set", "train.epochs=300", "--runs-dir",
               str(runs_dir), "-q"]  # fmt: skip
    ctrl_c_inside_first_member(command, runs_dir, env=env)  # alone: every core
    run = only_run(runs_dir)
    started_with = json.loads((run / "env.json").read_text())["torch_threads"]
    register_other(live, sleeper.pid)  # another run now: today's share would be smaller
    resumed = subprocess.run([*command[:4], "--resume", run.name, "--runs-dir", str(runs_dir), "-q"], env=env,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    parts = json.loads((run / "summary.json").read_text())["parts"]
    assert [part["threads"] for part in parts] == [started_with, started_with]
    assert parts[0]["to_step"] == parts[1]["from_step"] and parts[1]["to_step"] == 300 * 100
    summary = json.loads((run / "summary.json").read_text())
    assert summary["train_time_s"] == pytest.approx(sum(part["train_time_s"] for part in parts), abs=0.01)


def test_the_process_gets_its_thread_count_back(tmp_path):
    torch.set_num_threads(2)
    with ThreadShare(1, LiveRuns(tmp_path / "live")):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2  # a notebook or test calling train() keeps its own setting


def test_an_unwritable_live_folder_counts_only_this_run(tmp_path, monkeypatch):
    monkeypatch.setattr(thread_module, "cores_available", lambda: 2)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with ThreadShare("auto", LiveRuns(blocker / "live")):  # a file where the folder would be
        assert torch.get_num_threads() == 2


def test_comparison_members_use_one_thread_unless_told(tmp_path):
    def member_threads(*overrides: str) -> set:
        plan = plan_comparison(PlanRequest(problem="airfoil", overrides=overrides))
        return {member.config.threads for member in plan.members}

    assert member_threads() == {1}  # the same bits whatever --jobs is
    assert member_threads("threads=2") == {2}
