"""A tuning space is checked as a whole (Faults): keys constrain each other, so every combination of the
keys' corners is validated before any trial, and the one that fails is named; a value fine alone is still
refused where it fails beside another (a validation split as large as the training set it comes from)."""

from __future__ import annotations

from conftest import CONFIGS, run_folders


def test_a_corner_that_fails_only_in_combination_is_named_before_any_trial(dltool, runs_dir):
    result = dltool(
        "tune", CONFIGS / "softmax_torch.yaml", "--trials", "4", "--set", "data.validation=10",
        "--space", "data.train_size=choice(600,60)", "--space", "data.validation=choice(10,100)",
    )  # fmt: skip
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "the space's corner data.train_size=60, data.validation=100 is not a valid config" in said
    assert "data.validation=100 holds out all of data.train_size=60; use at most 59" in said
    assert run_folders(runs_dir) == []


def test_a_validation_split_as_large_as_the_training_set_is_refused_with_the_config(dltool, runs_dir):
    result = dltool("train", CONFIGS / "softmax_torch.yaml", "--set", "data.train_size=100", "--set",
                    "data.validation=100")  # fmt: skip
    assert result.exit_code == 2 and "holds out all of data.train_size=100" in " ".join(result.output.split())
    assert run_folders(runs_dir) == []
