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
from tests.conftest import CONFIGS, only_run, run_folders

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


def test_auto_takes_all_cores_alone_and_a_share_beside_another_run(tmp_path, monkeypatch, sleeper):
    monkeypatch.setattr(thread_module, "cores_available", lambda: 4)
    live = LiveRuns(tmp_path / "live")
    with ThreadShare("auto", live) as share:
        assert torch.get_num_threads() == 4
        register_other(live.folder, sleeper.pid)
        monkeypatch.setattr(thread_module, "RECHECK_S", 0.0)
        share.update()
        assert torch.get_num_threads() == 2  # a run started later: this one gives up half
        sleeper.kill()
        sleeper.wait()
        share.update()
        assert torch.get_num_threads() == 4  # and takes them back when it has ended
    assert not (live.folder / str(os.getpid())).exists()  # this run left the live runs


def test_runs_started_together_share_from_the_start(tmp_path, monkeypatch, sleeper):
    monkeypatch.setattr(thread_module, "cores_available", lambda: 2)
    live = LiveRuns(tmp_path / "live")
    register_other(live.folder, sleeper.pid)
    register_other(live.folder, 2**22)  # a pid no process has: a run that crashed does not count
    with ThreadShare("auto", live):
        assert torch.get_num_threads() == 1
    assert not (live.folder / str(2**22)).exists()  # the dead run's file is cleaned up


def test_a_pinned_count_and_a_users_omp_setting_are_never_changed(tmp_path, monkeypatch, sleeper):
    monkeypatch.setattr(thread_module, "RECHECK_S", 0.0)
    live = LiveRuns(tmp_path / "live")
    register_other(live.folder, sleeper.pid)
    with ThreadShare(3, live) as share:
        share.update()
        assert torch.get_num_threads() == 3
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with ThreadShare("auto", live) as share:
        share.update()
        assert not share.adaptive and torch.get_num_threads() == 1


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
