"""data.validation: the last N training examples are the split evaluations (and selection) read; the test
set is evaluated once, at the end of a completed run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from dltool.data.fashion_mnist import load, locate
from tests.conftest import CONFIGS, only_run, read_records, run_folders, write

TRAIN, VALID, TEST, BATCH = 2000, 500, 500, 256
CONFIG = f"""name: valid
model: {{name: softmax, impl: torch}}
data: {{name: fashion_mnist, batch_size: {BATCH}, train_size: {TRAIN}, test_size: {TEST}, validation: {VALID}}}
optimizer: {{name: sgd, impl: torch, lr: 0.1}}
train: {{epochs: 2}}
"""


@pytest.fixture(scope="module")
def fashion() -> dict:
    try:
        return load(locate(None, False))
    except Exception as exc:  # the installed copy is what these tests read; without it they cannot run
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")


@pytest.fixture
def finished_run(dltool, runs_dir, tmp_path, fashion):
    result = dltool("train", write(tmp_path / "valid.yaml", CONFIG), "-q")
    assert result.exit_code == 0, result.output
    return only_run(runs_dir)


def softmax_metrics(folder, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the saved softmax model on (x, y), computed here by hand."""
    state = torch.load(folder / "checkpoints" / "last.pt", weights_only=True)["model"]
    logits = x.flatten(1).float().div(255) @ state["1.weight"].T + state["1.bias"]
    loss = torch.nn.functional.cross_entropy(logits, y.long()).item()
    return loss, (logits.argmax(1) == y.long()).float().mean().item()


def test_evaluations_read_the_held_out_rows_and_training_the_rest(finished_run):
    records = read_records(finished_run)
    assert {r["split"] for r in records} == {"train", "valid", "test"}
    train = [r for r in records if r["split"] == "train"]
    steps_per_epoch = math.ceil((TRAIN - VALID) / BATCH)  # 1500 examples are trained on, not 2000
    assert [r["step"] for r in train] == [steps_per_epoch, 2 * steps_per_epoch]
    assert [r["examples"] for r in train] == [TRAIN - VALID, 2 * (TRAIN - VALID)]
    assert [r["epoch"] for r in train] == [1.0, 2.0]
    assert [r["step"] for r in records if r["split"] == "valid"] == [steps_per_epoch, 2 * steps_per_epoch]


def test_valid_and_test_metrics_are_the_models_on_their_rows(finished_run, fashion):
    records = read_records(finished_run)
    last_valid = [r for r in records if r["split"] == "valid"][-1]
    (test,) = [r for r in records if r["split"] == "test"]  # once, at the end
    assert records[-1] is test and test["step"] == last_valid["step"]
    loss, acc = softmax_metrics(
        finished_run, fashion["train_x"][TRAIN - VALID : TRAIN], fashion["train_y"][TRAIN - VALID : TRAIN]
    )
    assert last_valid["loss"] == pytest.approx(loss, rel=1e-4) and last_valid["acc"] == pytest.approx(acc)
    loss, acc = softmax_metrics(finished_run, fashion["test_x"][:TEST], fashion["test_y"][:TEST])
    assert test["loss"] == pytest.approx(loss, rel=1e-4) and test["acc"] == pytest.approx(acc)
    # the held-out rows are not the test rows: the two evaluations differ
    assert last_valid["loss"] != test["loss"]


def test_summary_selects_on_valid_and_reports_the_test_once(finished_run):
    summary = json.loads((finished_run / "summary.json").read_text())
    records = read_records(finished_run)
    valids = [r for r in records if r["split"] == "valid"]
    (test,) = [r for r in records if r["split"] == "test"]
    assert summary["eval_split"] == "valid"
    assert summary["final"]["valid_loss"] == valids[-1]["loss"] and summary["final"]["test_loss"] == test["loss"]
    assert summary["final"]["test_acc"] == test["acc"]
    assert summary["best"] == {"valid_loss": min(r["loss"] for r in valids), "valid_acc": max(r["acc"] for r in valids)}


def test_test_predictions_stay_on_the_test_set(finished_run, fashion):
    """The confusion matrix and prediction grid read the test rows, not the held-out training rows."""
    from dltool.store.predictions import load_predictions

    saved = load_predictions(finished_run / "predictions.npz")
    assert (saved.labels == fashion["test_y"][:TEST].numpy()).all()
    assert (saved.images == fashion["test_x"][: len(saved.images)].numpy()).all()
    _, test_acc = softmax_metrics(finished_run, fashion["test_x"][:TEST], fashion["test_y"][:TEST])
    assert (saved.predicted == saved.labels).mean() == pytest.approx(test_acc)


@pytest.mark.parametrize(
    ("config", "setting", "message"),
    [
        (CONFIGS / "linreg_airfoil_torch.yaml", "data.validation=10", "'airfoil' has no test split"),
        (CONFIGS / "linreg_synthetic_torch.yaml", "data.validation=10", "remove data.validation"),
        (None, "data.validation=2000", "use at most 1999"),
        (None, "data.validation=0", "data.validation"),
    ],
)
def test_bad_validation_is_one_message_and_no_run(dltool, runs_dir, tmp_path, config, setting, message):
    config = config or write(tmp_path / "valid.yaml", CONFIG)
    result = dltool("train", config, "-q", "--set", setting)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert run_folders(runs_dir) == []
