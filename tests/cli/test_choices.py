"""Closed choices and flags as users type them: a did-you-mean for a mistyped choice, flags without a
type in --help, and the names --metric also takes ('accuracy', as the picture is named)."""

from __future__ import annotations

import pytest
from conftest import CONFIGS, run_folders

from dltool.cli.sweep import RankMetric
from dltool.plots.axes import METRIC_ALIASES, Metric, MetricChoice
from dltool.results.points import METRICS


@pytest.mark.parametrize(
    "args, given, suggestion",
    [
        (["runs", "--status", "complete"], "complete", "completed"),
        (["runs", "--sort", "eval-loss"], "eval-loss", "eval_loss"),
        (["plot", "x", "--x", "epochs"], "epochs", "epoch"),
        (["plot", "x", "--format", "png", "--format", "svgg"], "svgg", "svg"),  # a repeated option: the bad one
        (["compare-optimizers", "--protocol", "ful"], "ful", "full"),
        (["compare-optimizers", "--schedules", "constant,cosin"], "cosin", "cosine"),  # an item of a list
    ],
)
def test_a_mistyped_choice_gets_a_did_you_mean(dltool, runs_dir, args, given, suggestion):
    result = dltool(*args)
    assert result.exit_code == 2 and run_folders(runs_dir) == []
    message = " ".join(result.stderr.replace("│", " ").split())  # the error box, unwrapped
    assert f"'{given}' is not one of" in message and f"did you mean '{suggestion}'?" in message


def test_a_choice_far_from_every_name_lists_them_without_a_guess(dltool):
    message = " ".join(dltool("runs", "--status", "xyz").stderr.replace("│", " ").split())
    assert "'xyz' is not one of running, completed, failed" in message and "did you mean" not in message


@pytest.mark.parametrize("command", ["train", "compare-optimizers", "sweep", "tune", "runs", "plot", "export"])
def test_flags_read_as_flags_in_help(dltool, command):
    """--quiet, --members, --all, --help take no value: no `<bool>` type beside them (`--quiet true` fails)."""
    result = dltool(command, "-h")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "--help" in result.stdout


def test_metric_accuracy_plots_what_acc_plots(dltool, runs_dir):
    assert dltool("train", CONFIGS / "softmax_torch.yaml", "-q", *sets_for_a_short_run()).exit_code == 0
    (run,) = run_folders(runs_dir)
    for name in ("acc", "accuracy"):
        out = runs_dir / f"{name}.svg"
        result = dltool("plot", run.name, "--metric", name, "--out", out)
        assert result.exit_code == 0, result.output
    assert (runs_dir / "acc.svg").read_text().count("<path") == (runs_dir / "accuracy.svg").read_text().count("<path")
    assert "accuracy" in (runs_dir / "accuracy.svg").read_text()  # the y label


def test_the_metric_names_are_the_metrics_and_their_aliases():
    assert [m.value for m in MetricChoice] == [m.value for m in Metric] + list(METRIC_ALIASES)
    assert {m.value for m in RankMetric} == set(METRICS) | set(METRIC_ALIASES)
    assert all(target in METRICS and target in {m.value for m in Metric} for target in METRIC_ALIASES.values())


def sets_for_a_short_run() -> list[str]:
    return ["--set", "train.epochs=1", "--set", "data.train_size=1000", "--set", "data.test_size=200"]


def test_a_long_list_of_choices_is_in_the_help_text_each_name_whole(dltool, monkeypatch):
    """At 80 columns the type column is narrow: there `<running|completed|...>` was folded mid-word."""
    monkeypatch.setenv("COLUMNS", "80")
    text = " ".join(dltool("runs", "-h").stdout.replace("│", " ").split())  # the help's words, unwrapped
    assert "--status <status> Only runs and studies with this status. One of: running, completed, failed, " in text
    assert "diverged, interrupted, pruned, crashed, damaged." in text
