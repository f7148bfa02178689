"""A sweep's grid is sized before it is built (Faults): the product of the value counts is checked first, so
a grid of 100 values on each of four keys is refused at once (it would otherwise be built in memory, 10^8
points), and equal numbers are one value, not two members of one config hash."""

from __future__ import annotations

from conftest import CONFIGS, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"


def hundred(scale: float) -> str:
    return ",".join(f"{scale * (i + 1):g}" for i in range(100))


def test_a_huge_grid_is_refused_before_it_is_built(dltool, runs_dir):
    keys = {"optimizer.lr": 1e-4, "optimizer.weight_decay": 1e-5, "data.batch_size": 1, "train.epochs": 1}
    grids = [arg for key, scale in keys.items() for arg in ("--grid", f"{key}={hundred(scale)}")]
    result = dltool("sweep", CONFIG, *grids)
    assert result.exit_code == 2, result.output
    assert "100 × 100 × 100 × 100 points × 1 seeds is 100,000,000 members, over 1000" in " ".join(result.output.split())
    assert run_folders(runs_dir) == []


def test_one_number_written_two_ways_is_one_value(dltool, runs_dir):
    for values in ("1,1.0", "0.1,1e-1", "10,1e1"):
        result = dltool("sweep", CONFIG, "--grid", f"optimizer.lr={values}")
        assert result.exit_code == 2 and "repeats a value (1 and 1.0 are one number)" in result.output, result.output
    assert run_folders(runs_dir) == []
