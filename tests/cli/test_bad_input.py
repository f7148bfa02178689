"""Bad input never trains and never leaves a run folder: one clear message, exit 2, no traceback."""

from __future__ import annotations

import pytest

from tests.conftest import CONFIGS, run_folders, write

MLP = CONFIGS / "mlp_torch.yaml"
AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"

# (files to write, arguments after `dltool train`, fragments the message must contain)
CASES = {
    "missing file": ({}, ["nope.yaml"], ["nope.yaml", "not found"]),
    "a directory": ({}, ["{tmp}"], ["is not a file"]),
    "empty file": ({"c.yaml": ""}, ["{tmp}/c.yaml"], ["c.yaml", "empty"]),
    "binary file": ({"c.yaml": b"\x89PNG\xff\xfe\x00"}, ["{tmp}/c.yaml"], ["c.yaml", "not a text file"]),
    "yaml syntax error": (
        {"c.yaml": "model: {name: mlp\n  impl: torch\n"},
        ["{tmp}/c.yaml"],
        ["c.yaml", "line 2", "YAML syntax"],
    ),
    "a list not a mapping": ({"c.yaml": "- a\n- b\n"}, ["{tmp}/c.yaml"], ["expected a YAML mapping", "list"]),
    "python tag": (
        {"c.yaml": "seed: !!python/object/apply:os.system ['echo hi']\n"},
        ["{tmp}/c.yaml"],
        ["line 1", "tag not allowed"],
    ),
    "unknown key": ({"c.yaml": "modle: {name: mlp}\n"}, ["{tmp}/c.yaml"], ["c.yaml", "modle", "did you mean 'model'"]),
    "unknown nested key": (
        {"c.yaml": "train: {epoch: 3}\n"},
        ["{tmp}/c.yaml"],
        ["train.epoch", "did you mean 'epochs'"],
    ),
    "unknown model option": ([], [MLP, "--set", "model.hiden=[10]"], ["model.hiden", "did you mean 'hidden'"]),
    "wrong type": (
        {"c.yaml": "train: {epochs: three}\n"},
        ["{tmp}/c.yaml"],
        ["train.epochs", "valid integer", "three"],
    ),
    "lr zero": ([], [MLP, "--set", "optimizer.lr=0"], ["optimizer.lr", "greater than 0"]),
    "lr negative": ([], [MLP, "--set", "optimizer.lr=-0.1"], ["optimizer.lr", "greater than 0"]),
    "lr nan": ([], [MLP, "--set", "optimizer.lr=.nan"], ["optimizer.lr", "finite"]),
    "batch size zero": ([], [MLP, "--set", "data.batch_size=0"], ["data.batch_size", "greater than 0"]),
    "negative resize": ([], [MLP, "--set", "data.resize=-8"], ["data.resize", "greater than 0"]),
    "momentum one": (
        [],
        [AIRFOIL, "--set", "optimizer.name=momentum", "--set", "optimizer.momentum=1"],
        ["optimizer.momentum", "less than 1"],
    ),
    "unknown model": (
        [],
        [MLP, "--set", "model.name=mlpp"],
        ["unknown model 'mlpp'", "did you mean 'mlp'", "valid models: ", "lenet_bn, linreg, mlp"],
    ),
    "unknown optimizer": (
        [],
        [MLP, "--set", "optimizer.name=adamw"],
        ["unknown optimizer 'adamw'", "adadelta, adagrad, adam"],
    ),
    "unknown dataset": ([], [MLP, "--set", "data.name=mnist"], ["unknown dataset 'mnist'", "fashion_mnist"]),
    "unknown schedule": ([], [MLP, "--set", "schedule.name=cosin"], ["unknown schedule", "did you mean 'cosine'"]),
    "unknown impl": ([], [MLP, "--set", "model.impl=scrach"], ["model.impl", "did you mean 'scratch'"]),
    "softmax on airfoil": (
        [],
        [AIRFOIL, "--set", "model.name=softmax"],
        ["'softmax' is a classification model", "regression dataset"],
    ),
    "set without =": ([], [MLP, "--set", "optimizer.lr"], ["expected KEY=VALUE"]),
    "set unknown key": (
        [],
        [MLP, "--set", "optimizer.learning_rate=0.1"],
        ["--set optimizer.learning_rate=0.1", "unknown key", "lr"],
    ),
    "set into a value": ([], [MLP, "--set", "seed.x=1"], ["--set seed.x=1", "valid integer"]),
    "unknown device": ([], [MLP, "--device", "gpu"], ["expected auto, cpu, cuda, cuda:N or mps"]),
    "cuda without gpu": ([], [MLP, "--device", "cuda"], ["no CUDA GPU"]),
    "fp16 on cpu": ([], [MLP, "--set", "precision=fp16", "--device", "cpu"], ["fp16 needs a CUDA device"]),
    "train_size too big": ([], [AIRFOIL, "--set", "data.train_size=5000"], ["data.train_size=5000", "1500"]),
    "test_size on airfoil": ([], [AIRFOIL, "--set", "data.test_size=10"], ["data.test_size", "whole set"]),
    "resize on tabular data": ([], [AIRFOIL, "--set", "data.resize=8"], ["data.resize applies to images"]),
    "bad run name": ([], [MLP, "--set", "name=a/b"], ["name", "letters, digits"]),
    "no config": ([], [], ["give a CONFIG file"]),
    "resume unknown run": ([], ["--resume", "20990101-nothing"], ["no run or study '20990101-nothing'"]),
    "resume with a path": ([], ["--resume", "../x"], ["not a run id"]),
}


@pytest.mark.parametrize("files, args, fragments", CASES.values(), ids=CASES.keys())
def test_bad_input_exits_2_with_one_clear_message(dltool, runs_dir, tmp_path, files, args, fragments):
    for name, content in dict(files).items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    result = dltool("train", *[str(a).replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") or "Usage:" in result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output
    assert run_folders(runs_dir) == []


def test_read_only_runs_folder_is_a_usage_error(dltool, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = dltool("train", AIRFOIL, "--runs-dir", folder)
    finally:
        folder.chmod(0o700)
    import os

    if os.geteuid() == 0:  # root writes anywhere; the message path is still checked through a file
        blocker = write(tmp_path / "file", "")
        result = dltool("train", AIRFOIL, "--runs-dir", blocker / "runs")
        assert "cannot be created" in result.output
    else:
        assert "not writable" in result.output
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_show_unknown_and_ambiguous_ids(dltool, runs_dir):
    for _ in range(2):
        assert dltool("train", AIRFOIL, "-q").exit_code == 0
    folders = run_folders(runs_dir)
    unknown = dltool("show", folders[0].name[:-1] + "z")
    assert unknown.exit_code == 2 and "did you mean" in unknown.output
    ambiguous = dltool("show", "2")
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.output and folders[1].name in ambiguous.output
    assert dltool("show", "../etc").exit_code == 2
    assert dltool("runs", "--status", "weird").exit_code == 2
