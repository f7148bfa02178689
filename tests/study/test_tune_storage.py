"""A tuning study's storage (Faults): its own SQLite file is found from where the folder is, so a copied study
resumes into its own database and leaves the original's alone; an in-memory database is refused (it keeps
nothing); and each process that opens a study seeds its sampler anew, so a resumed study does not propose
again what it proposed before."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

from conftest import CONFIGS, ctrl_c_inside_first_member, run_dir, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_copied_study_resumes_into_its_own_database_with_a_new_sampler_seed(tmp_path):
    original_runs, copy_runs = tmp_path / "runs", tmp_path / "elsewhere"
    command = [sys.executable, "-m", "dltool", "tune", str(CONFIG), "--space", "optimizer.lr=loguniform(0.01,0.1)",
               "--trials", "3", "--jobs", "1", "--no-prune", "--set", "train.epochs=100", "--runs-dir",
               str(original_runs), "--engine", "process", "-q"]  # fmt: skip
    ctrl_c_inside_first_member(command, original_runs)
    (original,) = [p for p in run_folders(original_runs) if "-tune-" in p.name]
    plan = json.loads((original / "study.json").read_text())["plan"]
    assert plan["storage"] is None and plan["sampler_seeds"] == [plan["sampler_seed"]]  # its own file, no path
    copy_runs.mkdir()
    for folder in original_runs.iterdir():  # the study (its member runs inside), as `cp -r runs elsewhere`
        shutil.copytree(folder, copy_runs / folder.name)
    before = digest(original / "optuna.db")

    resumed = subprocess.run(
        [sys.executable, "-m", "dltool", "tune", "--resume", original.name, "--runs-dir", str(copy_runs), "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert digest(original / "optuna.db") == before  # the original's database was not written
    copy = json.loads((copy_runs / original.name / "study.json").read_text())
    assert [m["status"] for m in copy["members"]] == ["completed"] * 3
    seed = plan["sampler_seed"]
    assert copy["plan"]["sampler_seeds"] == [seed, seed + 1]  # the second process's proposals are its own


def test_an_in_memory_storage_is_refused(dltool, runs_dir):
    for url in ("sqlite://", "sqlite:///:memory:"):
        result = dltool(
            "tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,0.1)", "--trials", "2", "--storage", url
        )
        assert result.exit_code == 2 and "is an in-memory database" in result.output, result.output
    assert run_folders(runs_dir) == []


def test_a_lost_optuna_db_is_rebuilt_from_the_member_runs_not_run_again(dltool, runs_dir):
    import optuna

    args = ("tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,0.1)", "--trials", "3", "--jobs", "1", "-q")
    assert dltool(*args).exit_code == 0
    (study,) = [p for p in run_folders(runs_dir) if "-tune-" in p.name]
    before = json.loads((study / "study.json").read_text())
    (study / "optuna.db").unlink()
    folders = run_folders(runs_dir)

    result = dltool("tune", "--resume", study.name)
    assert result.exit_code == 0, result.output
    assert f"rebuilt 3 trials of {study.name} from its member runs" in result.output
    assert run_folders(runs_dir) == folders  # no trial trained again
    url = f"sqlite:///{study / 'optuna.db'}"
    (name,) = optuna.get_all_study_names(url)
    trials = optuna.load_study(study_name=name, storage=url).get_trials()
    for member, trial in zip(before["members"], trials):  # each value is its run's own final loss
        summary = json.loads((run_dir(runs_dir, member["run_id"]) / "summary.json").read_text())
        assert trial.state.name == "COMPLETE" and trial.value == summary["final"]["full_loss"]
        assert trial.params["optimizer.lr"] == member["point"]["optimizer.lr"]
    after = json.loads((study / "study.json").read_text())["plan"]["best"]
    assert (after["run_id"], after["value"]) == (before["plan"]["best"]["run_id"], before["plan"]["best"]["value"])


def test_damaged_tuning_storage_files_are_one_line_each(dltool, runs_dir, tmp_path):
    import sqlite3

    too_long = dltool("tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,0.1)", "--trials", "2",
                      "--storage", f"sqlite:///{tmp_path / ('x' * 5000)}.db")  # fmt: skip
    assert too_long.exit_code == 2 and "File name too long" in too_long.output, too_long.output
    assert run_folders(runs_dir) == []
    args = ("tune", CONFIG, "--space", "optimizer.lr=loguniform(0.01,0.1)", "--trials", "2", "--jobs", "1", "-q")
    assert dltool(*args).exit_code == 0
    (study,) = [p for p in run_folders(runs_dir) if "-tune-" in p.name]
    lock = study / "optuna.db.lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()
    result = dltool("tune", "--resume", study.name)
    assert result.exit_code == 2 and "optuna.db.lock' is a folder, not a file" in result.output, result.output
    lock.rmdir()
    with sqlite3.connect(study / "optuna.db") as database:  # the trials' values deleted by hand
        database.execute("delete from trial_params")
    result = dltool("tune", "--resume", study.name)
    assert result.exit_code == 2 and f"study '{study.name}' is damaged: its Optuna storage's trials" in result.output
    assert "Traceback" not in result.output
