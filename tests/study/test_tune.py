"""`dltool tune`: Optuna trials as member runs. A fixed seed reproduces the best value, two processes
sharing one SQLite storage finish exactly the requested number of trials, pruned trials are recorded
as such, selection reads the validation split and the best config trains as it is.

Oracles: Optuna's own storage (trial numbers, states, values) and the members' summary.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
from conftest import CONFIGS, ctrl_c_inside_first_member, run_dir, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"
SPACE = ("--space", "optimizer.lr=loguniform(1e-3,1)", "--space", "data.batch_size=choice(10,100)")


def tune_folders(runs_dir: Path) -> list[Path]:
    return [p for p in run_folders(runs_dir) if "-tune-" in p.name]


def record_of(folder: Path) -> dict:
    return json.loads((folder / "study.json").read_text())


def storage_trials(folder: Path) -> list:
    plan = record_of(folder)["plan"]
    storage = plan["storage"] or f"sqlite:///{folder / 'optuna.db'}"  # None: the folder's own file
    study = optuna.load_study(study_name=plan["study_name"], storage=storage)
    return study.get_trials()


def test_six_trials_with_a_fixed_seed_reproduce_the_best_value(dltool, runs_dir, tmp_path):
    bests = []
    for name in ("first", "second"):
        result = dltool("tune", CONFIG, *SPACE, "--trials", "6", "--jobs", "1", "-q", "--runs-dir", tmp_path / name)
        assert result.exit_code == 0, result.output
        (folder,) = tune_folders(tmp_path / name)
        trials = storage_trials(folder)
        assert len(trials) == 6 and sorted(t.number for t in trials) == list(range(6))
        data = record_of(folder)
        assert data["kind"] == "tune" and data["status"] == "completed" and len(data["members"]) == 6
        for member, trial in zip(data["members"], sorted(trials, key=lambda t: t.number)):
            summary = json.loads((run_dir(tmp_path / name, member["run_id"]) / "summary.json").read_text())
            assert (
                member["status"] == summary["status"] == {"COMPLETE": "completed", "PRUNED": "pruned"}[trial.state.name]
            )
            if trial.state.name == "COMPLETE":  # the value is the member's own final loss on the objective's split
                assert trial.value == summary["final"]["full_loss"]
        best = min((t for t in trials if t.value is not None), key=lambda t: t.value)
        bests.append((best.number, best.value, best.params))
        assert f"best: trial {best.number}" in result.output
        for name_ in ("history.png", "slices.png", "importances.png"):
            assert (folder / "plots" / name_).stat().st_size > 10_000
    assert bests[0] == bests[1]
    # best.yaml is a config `dltool train` runs as it is, at the best trial's values
    best_yaml = tune_folders(tmp_path / "first")[0] / "best.yaml"
    text = best_yaml.read_text()
    assert f"lr: {bests[0][2]['optimizer.lr']}" in text and f"batch_size: {bests[0][2]['data.batch_size']}" in text
    trained = dltool("train", best_yaml, "-q")
    assert trained.exit_code == 0, trained.output


def test_two_processes_sharing_one_storage_finish_exactly_the_requested_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    # one trial at a time per process (--engine process): a population takes ten at once
    command = [sys.executable, "-m", "dltool", "tune", str(CONFIG), *SPACE, "--trials", "7", "--jobs", "1",
               "--engine", "process", "--storage", storage, "--runs-dir", str(tmp_path / "runs"), "-q"]  # fmt: skip
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    folders = tune_folders(tmp_path / "runs")
    assert len(folders) == 2
    trials = storage_trials(folders[0])
    assert sorted(t.number for t in trials) == list(range(7))  # exactly 7, none duplicated
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    ran = [[m["trial"] for m in record_of(folder)["members"]] for folder in folders]
    assert sorted(ran[0] + ran[1]) == list(range(7))  # each trial ran in one process only
    assert all(ran), ran  # both processes worked on the study


def test_a_pruned_trial_is_recorded_as_such(dltool, runs_dir):
    # eight trials: the quasi-random start tries the low learning rates (0.0017) that fall behind the median of
    # those finished before them (one after another: a population's trials report side by side, none finished)
    args = ("--trials", "8", "--jobs", "1", "--engine", "process", "-q", "--set", "train.epochs=4")
    result = dltool("tune", CONFIG, *SPACE, *args)
    assert result.exit_code == 0, result.output
    (folder,) = tune_folders(runs_dir)
    pruned = [t for t in storage_trials(folder) if t.state.name == "PRUNED"]
    assert pruned, "the median pruner stopped no trial"
    members = {m["trial"]: m for m in record_of(folder)["members"]}
    for trial in pruned:
        member = members[trial.number]
        status = json.loads((run_dir(runs_dir, member["run_id"]) / "status.json").read_text())
        assert member["status"] == status["status"] == "pruned"
        assert status["pruned_at_step"] < 4 * 150  # stopped before its last step
    assert "pruned" in (folder / "results.csv").read_text()


def test_tuning_reads_the_validation_split_and_reports_the_test_set_once(dltool, runs_dir):
    result = dltool(
        "tune", CONFIGS / "softmax_torch.yaml", "--space", "optimizer.lr=loguniform(0.01,1)", "--trials", "2",
        "--jobs", "1", "-q", "--set", "data.train_size=3000", "--set", "data.validation=1000",
        "--set", "data.test_size=500", "--set", "train.epochs=1", "--metric", "acc",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (folder,) = tune_folders(runs_dir)
    for trial in storage_trials(folder):
        member = next(m for m in record_of(folder)["members"] if m["trial"] == trial.number)
        summary = json.loads((run_dir(runs_dir, member["run_id"]) / "summary.json").read_text())
        assert trial.value == summary["final"]["valid_acc"]  # selected on the validation split
    assert "validation split" in result.output and "test set is never used to select" in result.output
    assert "its test metrics, measured once after training (not used to select): test_loss" in result.output


def test_a_trial_asked_beyond_the_count_on_another_machine_is_surplus(tmp_path):
    """Processes on several machines share no lock: when another one asks between this one's count and
    its ask, this one's trial is beyond the requested number: marked surplus and failed, never trained."""
    from dltool.store.study import StudyFolder
    from dltool.study.optuna_storage import open_storage
    from dltool.study.trials import SURPLUS, TrialWork, counted
    from dltool.study.tune import _header, _optuna_study
    from dltool.study.tune_plan import TuneRequest, plan_tune
    from dltool.train.progress import MemberProgress

    plan = plan_tune(TuneRequest(CONFIG, ("optimizer.lr=loguniform(1e-3,1)",), trials=3))
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    study, _ = _optuna_study(plan, open_storage(storage), storage)
    other_machine = optuna.load_study(study_name=plan.study_name, storage=storage)
    for _ in range(2):
        other_machine.tell(other_machine.ask(), 0.5)
    folder = StudyFolder.start(tmp_path / "runs", _header(plan, 1, storage), [])
    work = TrialWork(folder, plan, study, storage, MemberProgress(3, quiet=True))
    asked = study.ask

    def ask_after_the_other_machine(*args):
        other_machine.tell(other_machine.ask(), 0.4)  # the other machine takes the last trial meanwhile
        return asked(*args)

    study.ask = ask_after_the_other_machine
    assert list(work.jobs()) == []  # nothing to train
    trials = study.get_trials()
    assert len(trials) == 4 and len(counted(trials)) == 3
    (surplus,) = [t for t in trials if t.system_attrs.get(SURPLUS)]
    assert surplus.number == 3 and surplus.state.name == "FAIL"
    assert folder.record.members == []


def test_ctrl_c_then_resume_finishes_the_interrupted_trial_and_the_rest(tmp_path):
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "dltool", "tune", str(CONFIG), "--space", "optimizer.lr=loguniform(0.01,0.1)",
               "--trials", "3", "--jobs", "1", "--no-prune", "--set", "train.epochs=100", "--runs-dir", str(runs_dir),
               "--engine", "process", "-q"]  # fmt: skip
    ctrl_c_inside_first_member(command, runs_dir)
    (folder,) = tune_folders(runs_dir)
    data = record_of(folder)
    assert data["status"] == "interrupted" and [m["status"] for m in data["members"]] == ["interrupted"]
    states = [t.state.name for t in storage_trials(folder)]
    assert states == ["RUNNING", "WAITING", "WAITING"]  # kept for --resume, the rest of the quasi-random start queued
    resumed = subprocess.run(
        [sys.executable, "-m", "dltool", "tune", "--resume", folder.name, "--runs-dir", str(runs_dir), "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    members = record_of(folder)["members"]
    assert members[0]["run_id"] == data["members"][0]["run_id"]  # continued in its own folder
    assert [m["status"] for m in members] == ["completed"] * 3
    assert [t.state.name for t in storage_trials(folder)] == ["COMPLETE"] * 3
