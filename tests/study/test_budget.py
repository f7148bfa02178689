"""The verdict against the tuning budget (Dodge et al. 2019): the expected best of k trials drawn from a
pool, checked against enumerating every draw; shown as a table and a picture by a tuned comparison."""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import run_dir, run_folders
from hypothesis import given, settings
from hypothesis import strategies as st

from dltool.results.budget import budget_curve, expected_best, ranking_changes, trial_values


@settings(max_examples=40, deadline=None)
@given(pool=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=5), k=st.integers(1, 4))
def test_the_expected_best_is_the_mean_of_every_draw_of_k(pool, k):
    brute = np.mean([min(draw) for draw in itertools.product(pool, repeat=k)])
    assert expected_best(np.array(pool)[None, :], k)[0] == pytest.approx(brute, rel=1e-9, abs=1e-9)


def test_a_curve_falls_with_the_budget_to_the_pools_best_and_brackets_itself():
    pool = [0.31, 0.25, 0.42, 0.26, 0.29, 0.50, 0.24, 0.33]
    curve = budget_curve("sgd", pool, seed=1)
    assert curve.budgets == tuple(range(1, 9)) and curve.expected[0] == pytest.approx(np.mean(pool))
    assert all(a >= b for a, b in zip(curve.expected, curve.expected[1:]))
    assert curve.expected[-1] > min(pool) and curve.at(1)[0] == curve.expected[0]
    assert all(low <= mean <= high for mean, low, high in zip(curve.expected, curve.low, curve.high))


def test_a_change_of_lead_between_budgets_is_said():
    steady = budget_curve("steady", [0.30, 0.30, 0.30, 0.30])  # good out of the box, no better tuned
    tunable = budget_curve("tunable", [0.50, 0.50, 0.50, 0.10])  # poor at one trial, best at four
    assert ranking_changes([steady, tunable], [1, 4], 0.01) == [
        "the lead passes from steady (k = 1) to tunable (k = 4)"
    ]
    assert ranking_changes([steady, tunable], [1, 2], 0.01) == []
    # a swap inside the margin is the bootstrap's noise: airfoil's 0.3354 against 0.3361 at k = 1 is no change
    close = budget_curve("close", [0.3015, 0.3015, 0.3015, 0.298])  # behind at k = 1, ahead by 0.3% at k = 4
    assert ranking_changes([steady, close], [1, 4], 0.01) == []
    assert ranking_changes([steady, close], [1, 4], 0.001) == ["the lead passes from steady (k = 1) to close (k = 4)"]


def test_a_trial_that_made_no_progress_counts_at_its_start():
    """One learning rate that blew up to 1e12 would otherwise outweigh every other trial in the k = 1 mean."""

    def trial(final, losses, first_step=0):
        records = [{"step": first_step + 10 * i, "loss": loss} for i, loss in enumerate(losses)]
        return SimpleNamespace(final_loss=final, records=records)

    trials = [trial(0.25, [0.5, 0.25]), trial(1e12, [0.5, 1e12]), trial(None, [0.5, 3.0]), trial(None, [])]
    assert trial_values(trials) == [0.25, 0.5, 0.5]  # the last had no loss at all: left out
    # first evaluated after an epoch: no starting loss is known, so a final loss counts as it is
    assert trial_values([trial(40.4, [61.4, 40.4], first_step=196), trial(None, [61.4], first_step=196)]) == [
        40.4,
        61.4,
    ]


def test_a_tuned_comparison_shows_the_budget_table_and_picture(dltool, runs_dir):
    args = ("--optimizers", "sgd,adam", "--impl", "torch", "--tune", "4", "--seeds", "2", "--jobs", "2")
    result = dltool("compare-optimizers", "-q", *args)
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in run_folders(runs_dir) if "-compare-" in p.name]
    text = (folder / "results.md").read_text()
    assert (
        "## the verdict against the tuning budget" in text and "| setting | k = 0 (untuned) | k = 1 | k = 4 |" in text
    )
    assert "the verdict against the tuning budget" in result.output
    assert (folder / "plots" / "budget.png").stat().st_size > 10_000
    tuning = json.loads((folder / "study.json").read_text())["plan"]["tuning"]
    assert {entry["variant"] for entry in tuning} == {"sgd lr=0.05", "adam lr=0.01"}
    for entry in tuning:  # k = 0: the untuned setting's own run, at the notes' lr, outside the trials
        study = json.loads((runs_dir / entry["study"] / "study.json").read_text())
        default = study["plan"]["default"]
        assert default["run_id"] not in {m["run_id"] for m in study["members"]} and len(study["members"]) == 4
        config = (run_dir(runs_dir, default["run_id"]) / "config.yaml").read_text()
        assert f"lr: {entry['variant'].split('lr=')[1]}" in config and default["value"] > 0
        summary = json.loads((run_dir(runs_dir, default["run_id"]) / "summary.json").read_text())
        assert default["value"] == summary["final"]["full_loss"] and f"| {default['value']:.4g} |" in text
