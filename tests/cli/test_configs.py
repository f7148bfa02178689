"""The shipped configs (Reading): `dltool configs` lists them, and any command that takes a CONFIG finds one by
name from any folder; a misspelled name gets a did-you-mean; a file that exists wins over a name."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CONFIGS, run_folders

from dltool.shipped import SHIPPED, resolve_config


def test_configs_lists_every_shipped_config(dltool):
    result = dltool("configs")
    assert result.exit_code == 0, result.output
    names = sorted(path.stem for path in CONFIGS.glob("*.yaml"))
    assert names and all(f"│ {name} " in result.output for name in names)
    assert "│ lenet_bn_scratch         │ lenet_bn · scratch │ fashion_mnist    │ adam · torch" in result.output


def test_a_shipped_config_is_found_by_name_from_any_folder(dltool, runs_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository: no configs/ here
    result = dltool("train", "linreg_airfoil_scratch", "--set", "train.epochs=1", "-q")
    assert result.exit_code == 0, result.output
    (run,) = run_folders(runs_dir)
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    assert dltool("sweep", "linreg_airfoil_scratch.yaml", "--grid", "optimizer.lr=0.01,0.02", "--set",
                  "train.epochs=1", "-q").exit_code == 0  # fmt: skip


def test_a_misspelled_name_gets_a_did_you_mean(dltool, runs_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = dltool("train", "mlp_torc")
    assert result.exit_code == 2
    assert "config file 'mlp_torc' not found (did you mean 'mlp_torch'?)" in result.output
    assert run_folders(runs_dir) == []


def test_a_file_that_exists_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("mlp_torch").write_text("name: mine\n")
    assert resolve_config(Path("mlp_torch")) == Path("mlp_torch")
    assert resolve_config(Path("softmax_torch")) == SHIPPED / "softmax_torch.yaml"
    assert resolve_config(Path("sub/softmax_torch")) == Path("sub/softmax_torch")  # a path is never a name
