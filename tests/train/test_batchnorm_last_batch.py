"""A last batch of one example under batch norm (Faults): torch's BatchNorm refuses one example in training
(no batch variance), so where an epoch would end on one, that example is left out of the epoch (the rule of
DataLoader(drop_last=True), for that one case): LeNet-BN on 513 examples in batches of 256 trains two steps
an epoch in both impls instead of stopping mid-epoch; every other last batch is kept."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import CONFIGS, run_folders

from dltool.data.batches import EpochBatches


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_lenet_bn_with_a_last_batch_of_one_trains_whole_epochs(dltool, runs_dir, impl):
    sizes = ("--set", "data.train_size=513", "--set", "data.test_size=100", "--set", "data.batch_size=256")
    result = dltool("train", CONFIGS / f"lenet_bn_{impl}.yaml", *sizes, "--set", "train.epochs=2", "-q")
    assert result.exit_code == 0, result.output
    (run,) = run_folders(runs_dir)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 4 and summary["epochs"] == 2.0
    epochs = [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs[-1] == 2.0 and all(float(epoch).is_integer() for epoch in epochs)


def test_only_a_single_last_example_is_left_out_and_only_when_asked():
    def batches(n: int, drop: bool) -> list[list[int]]:
        order = EpochBatches(n, 256, seed=0, drop_single_last=drop).epoch(torch.device("cpu"))
        return [index.tolist() for index in order]

    kept = batches(513, drop=True)
    assert [len(b) for b in kept] == [256, 256] and len(set(sum(kept, []))) == 512
    assert [len(b) for b in batches(513, drop=False)] == [256, 256, 1]
    assert [len(b) for b in batches(514, drop=True)] == [256, 256, 2]  # two examples have a variance: kept
    assert len(EpochBatches(513, 256, seed=0, drop_single_last=True)) == 2
