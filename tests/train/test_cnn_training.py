"""The convolutional models through `dltool train` and `dltool model`, on the real Fashion-MNIST."""

from __future__ import annotations

import json

import pytest

from dltool.train.device import cpu_has_bf16
from tests.conftest import CONFIGS, only_run, read_records, run_folders

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)


def summary_of(folder) -> dict:
    return json.loads((folder / "summary.json").read_text())


def test_lenet_bn_reaches_087_within_10_epochs_in_both_impls(dltool, runs_dir):
    """The shipped configs (Adam lr 0.001, batch 256, 10 epochs): each impl reaches 0.87 test accuracy,
    and the scratch BatchNorm ends within one point of nn.BatchNorm."""
    best, final = {}, {}
    for impl in ("scratch", "torch"):
        result = dltool("train", CONFIGS / f"lenet_bn_{impl}.yaml", "-q")
        assert result.exit_code == 0, result.output
        folder = [f for f in run_folders(runs_dir) if impl in f.name][0]
        best[impl] = summary_of(folder)["best"]["test_acc"]
        final[impl] = summary_of(folder)["final"]["test_acc"]
    assert min(best.values()) >= 0.87, best
    assert abs(final["scratch"] - final["torch"]) <= 0.01, final


def test_lenet_bn_in_bf16_is_within_one_point_of_fp32(dltool, runs_dir):
    accs = {}
    for precision in ("fp32", "bf16"):
        result = dltool(
            "train",
            CONFIGS / "lenet_bn_torch.yaml",
            "-q",
            "--set",
            f"precision={precision}",
            "--set",
            "train.epochs=2",
            "--set",
            f"name=lenet-{precision}",
        )
        assert result.exit_code == 0, result.output
        folder = [f for f in run_folders(runs_dir) if precision in f.name][0]
        assert json.loads((folder / "env.json").read_text())["precision"] == precision
        accs[precision] = summary_of(folder)["final"]["test_acc"]
    assert abs(accs["fp32"] - accs["bf16"]) <= 0.01, accs


@pytest.mark.parametrize("config", ["resnet18.yaml", "densenet.yaml"])
def test_resnet_and_densenet_at_resize_96_train_on_cpu(dltool, runs_dir, config):
    """20 real steps (4 batches of 16, 5 epochs) at 96x96 on a small subset: the loss falls."""
    result = dltool(
        "train",
        CONFIGS / config,
        "-q",
        "--device",
        "cpu",
        "--set",
        "data.train_size=64",
        "--set",
        "data.test_size=32",
        "--set",
        "data.batch_size=16",
        "--set",
        "train.epochs=5",
    )
    assert result.exit_code == 0, result.output
    folder = only_run(runs_dir)
    train = [r["loss"] for r in read_records(folder) if r["split"] == "train"]
    assert summary_of(folder)["steps"] == 20
    assert train[-1] < train[0], train
    env = json.loads((folder / "env.json").read_text())
    assert env["precision"] == ("bf16" if cpu_has_bf16() else "fp32")  # precision: auto


def test_densenet_without_resize_explains_the_minimum_size(dltool, runs_dir):
    result = dltool("train", CONFIGS / "densenet.yaml", "--set", "data.resize=null")
    assert result.exit_code == 2 and "data.resize" in result.output
    assert run_folders(runs_dir) == []


def test_model_command_shows_the_notes_shapes(dltool):
    result = dltool("model", CONFIGS / "resnet18.yaml", "--set", "data.resize=224", "--depth", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()

    def shape_of(name: str) -> str:
        row = next(line for line in lines if line.strip("│ ").startswith(name + " "))
        return row.split("│")[3].strip()

    assert shape_of("stem") == "1×64×56×56"
    assert [shape_of(f"stages.{i}") for i in range(4)] == ["1×64×56×56", "1×128×28×28", "1×256×14×14", "1×512×7×7"]
    assert shape_of("total") == "1×10" and "11,178,378" in result.output


def test_model_command_on_lenet_counts_every_parameter(dltool):
    result = dltool("model", CONFIGS / "lenet_bn_scratch.yaml")
    assert result.exit_code == 0
    assert "44,878" in result.output and "1×16×4×4" in result.output
