"""A shared tuning storage (Faults): a database server that never answers stops the command within
--storage-timeout (one line, password hidden, no folder); a missing driver is named with what to install;
joining a study that already holds its trials says so and makes nothing; a trial whose process died is
failed by its silent heartbeat, left out of the count and retried with its values. With real PostgreSQL and
MariaDB servers (CI starts them: DLTOOL_TEST_POSTGRES_URL, DLTOOL_TEST_MYSQL_URL), two processes started
together on the README's command run exactly the requested trials, with distinct proposals."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import optuna
import pytest
from conftest import CONFIGS, run_folders

from dltool.study import heartbeat
from dltool.study.heartbeat import quiet_heartbeat
from dltool.study.optuna_storage import open_storage
from dltool.study.trials import counted

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"
SPACE = ("--space", "optimizer.lr=loguniform(0.01,0.1)")


def tune_args(trials: int, storage: str, *more: str) -> list[str]:
    return ["tune", str(CONFIG), *SPACE, "--trials", str(trials), "--storage", storage, "--jobs", "1",
            "--engine", "process", "--set", "train.epochs=2", *more]  # fmt: skip


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a hung database server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    thread = threading.Thread(target=lambda: [accepted.append(server.accept()) for _ in iter(int, 1)], daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


@pytest.mark.parametrize("scheme", ["postgresql", "mysql+pymysql"])
def test_a_server_that_never_answers_stops_within_the_timeout(dltool, runs_dir, silent_port, scheme):
    url = f"{scheme}://user:secret@127.0.0.1:{silent_port}/db"
    started = time.monotonic()
    result = dltool(*tune_args(2, url, "--storage-timeout", "2"))
    assert time.monotonic() - started < 20, "the command waited far beyond --storage-timeout"
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --storage") and "--storage-timeout" in result.output
    assert "secret" not in result.output and "***" in result.output  # a password is never printed
    assert run_folders(runs_dir) == []


def test_a_missing_driver_is_named_with_what_to_install(dltool, runs_dir):
    try:
        import MySQLdb  # noqa: F401

        pytest.skip("mysqlclient is installed here: mysql:// has its driver")
    except ImportError:
        pass
    result = dltool(*tune_args(2, "mysql://user:pw@127.0.0.1:1/db"))
    assert result.exit_code == 2
    assert "no module named 'MySQLdb'; install it with: pip install 'mysqlclient'" in result.output, result.output
    assert run_folders(runs_dir) == []


def test_joining_a_study_that_holds_its_trials_says_so_and_makes_nothing(dltool, runs_dir, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = dltool(*tune_args(2, url))
    assert first.exit_code == 0, first.output
    folders = run_folders(runs_dir)
    again = dltool(*tune_args(2, url))
    assert again.exit_code == 0, again.output
    assert "already holds its 2 of 2 trials" in again.output and "no folder made" in again.output
    assert run_folders(runs_dir) == folders


def test_a_trial_whose_process_died_is_failed_and_retried_with_its_values(dltool, runs_dir, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert dltool(*tune_args(1, url)).exit_code == 0
    (name,) = optuna.get_all_study_names(url)
    monkeypatch.setattr(heartbeat, "GRACE_S", 1)
    # a process that asked a trial, beat once, then died
    dead = optuna.load_study(study_name=name, storage=open_storage(url, heartbeat=True))
    with quiet_heartbeat():
        lost = dead.ask({"optimizer.lr": optuna.distributions.FloatDistribution(0.01, 0.1, log=True)})
    dead._storage.record_heartbeat(lost._trial_id)
    time.sleep(2.5)

    result = dltool(*tune_args(3, url))
    assert result.exit_code == 0, result.output
    trials = optuna.load_study(study_name=name, storage=url).get_trials()
    stale = trials[lost.number]
    assert stale.state.name == "FAIL"  # never RUNNING for ever
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == lost.number]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE"
    assert retried[0].params == stale.params  # the same values, trained by the process that found it
    assert len(counted(trials)) == 3 and not [t for t in trials if t.state.name == "RUNNING"]


def server_url(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{variable} is not set: no database server here (.ci/run starts PostgreSQL and MariaDB)")
    return url


@pytest.mark.parametrize("variable", ["DLTOOL_TEST_POSTGRES_URL", "DLTOOL_TEST_MYSQL_URL", None])
def test_two_processes_joined_on_one_storage_run_the_requested_trials_with_distinct_proposals(tmp_path, variable):
    url = server_url(variable) if variable else f"sqlite:///{tmp_path / 'shared.db'}"
    trials = 6
    runs = tmp_path / "runs"
    # the README's command (a config, a space, --storage URL), with a study name no other test run shares
    command = [sys.executable, "-m", "dltool", *tune_args(trials, url, "--set", f"name=t{uuid.uuid4().hex[:8]}"),
               "--runs-dir", str(runs), "-q"]  # fmt: skip
    before = set(optuna.get_all_study_names(url))
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    (name,) = set(optuna.get_all_study_names(url)) - before
    study = optuna.load_study(study_name=name, storage=url)
    assert study.user_attrs["dltool_processes_opened"] == 2
    done = counted(study.get_trials())
    assert len(done) == trials
    values = [t.params["optimizer.lr"] for t in done]
    assert len(set(values)) == trials  # no proposal repeated across the two processes
    assert len([f for f in run_folders(runs) if "-tune-" in f.name]) == 2


def test_a_trial_failed_meanwhile_by_another_process_is_not_told_again(tmp_path):
    from dltool.store.study import MemberEntry, StudyFolder, StudyHeader
    from dltool.study.members import Result
    from dltool.study.trials import TrialWork
    from dltool.study.tune_plan import TuneRequest, plan_tune
    from dltool.train.progress import MemberProgress

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    plan = plan_tune(TuneRequest(CONFIG, SPACE[1:], 2))
    study = optuna.create_study(study_name=plan.study_name, storage=open_storage(url, heartbeat=True))
    header = StudyHeader(problem="p", title="t", source="", started="", jobs=1, pid=0, seeds=1, kind="tune")
    folder = StudyFolder.start(tmp_path / "runs", header, [])
    work = TrialWork(folder, plan, study, url, MemberProgress(2, quiet=True))
    with quiet_heartbeat():
        trial = study.ask({"optimizer.lr": optuna.distributions.FloatDistribution(0.01, 0.1, log=True)})
    index = folder.add_member(MemberEntry("trial 0", "trial 0", "", "sgd", "scratch", 0, {}, 0.01, 10, trial=0))
    work.open[index] = trial
    study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)  # by a process that
    work.finished(index, Result(None, "failed", 1))  # found its beats late: no ValueError ('Cannot tell')
    work.stop_beating()
    assert study.trials[0].state.name == "FAIL"
