"""What a tuning study's reader is told (Reading): importances from fewer than 20 trials carry a warning in the
picture, and the notes under the trials table say each key's values tried (a choice's values with their
counts and best result, recomputed here from the table's own rows)."""

from __future__ import annotations

import csv

from conftest import CONFIGS, run_folders

from dltool.plots.tune import FEW_TRIALS, importance_figure


def test_importances_from_few_trials_are_drawn_with_a_warning():
    few = importance_figure({"optimizer.lr": 0.9, "data.batch_size": 0.1}, "loss", 6).axes[0].get_title()
    many = importance_figure({"optimizer.lr": 0.9, "data.batch_size": 0.1}, "loss", FEW_TRIALS).axes[0].get_title()
    assert "from 6 completed trials" in few and f"fewer than {FEW_TRIALS}: a rough guide only" in few
    assert "rough guide" not in many


def test_the_notes_say_each_keys_values_tried(dltool, runs_dir):
    result = dltool("tune", CONFIGS / "linreg_airfoil_torch.yaml", "--space", "optimizer.lr=loguniform(1e-3,1)",
                    "--space", "data.batch_size=choice(10,100)", "--trials", "6", "--jobs", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    (study,) = [p for p in run_folders(runs_dir) if "-tune-" in p.name]
    rows = list(csv.DictReader((study / "results.csv").open()))
    for batch in ("10", "100"):
        mine = [float(row["final_loss"]) for row in rows if row["data.batch_size"] == batch]
        assert f"{batch} ({len(mine)} trials, best {min(mine):.4g})" in result.output
    lrs = sorted(float(row["optimizer.lr"]) for row in rows)
    assert f"optimizer.lr tried from {lrs[0]:g}" in result.output and "(6 trials)" in result.output
    assert "data.batch_size tried: " in (study / "results.md").read_text()  # the file says it too
