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

from conftest import CONFIGS, ctrl_c_inside_first_member, run_folders

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
    for folder in run_folders(original_runs):  # the study and its member runs, as `cp -r runs elsewhere`
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
