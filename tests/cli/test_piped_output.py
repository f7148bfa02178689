"""Output piped to a file (Reading): every line whole, never wrapped at 80 nor padded to a fixed width; a
table as wide as its content with its title on a line of its own; a train line keeps each metric with its
value."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import CONFIGS


def piped(*args: str, runs) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    result = subprocess.run([sys.executable, "-m", "dltool", *args, "--runs-dir", str(runs)], capture_output=True,
                            text=True, env=env, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return (result.stdout + result.stderr).splitlines()


def test_a_piped_comparison_table_is_sized_to_its_content(tmp_path):
    lines = piped("compare-optimizers", runs=tmp_path)
    assert not [line for line in lines if line != line.rstrip()]  # nothing padded
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert len({len(line) for line in table}) == 1  # one width: no cell wrapped onto a line of its own
    assert 80 < len(table[0]) < 400
    rows = [line for line in table if line.startswith("│")]
    assert len(rows) == 6 and all(line.count("(") == line.count(")") for line in rows)  # intervals whole
    title = lines[lines.index(table[0]) - 1]  # on its own line above the table, whole
    assert title.startswith("airfoil, linear regression, batch 10") and "target loss" in title


def test_piped_train_lines_are_not_wrapped(tmp_path):
    lines = piped("train", str(CONFIGS / "linreg_airfoil_scratch.yaml"), "--set", "train.epochs=2", runs=tmp_path)
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2 and all("full loss" in line for line in epochs)
    assert not [line for line in lines if line.startswith("  ") and line.split()[0].replace(".", "").isdigit()]
