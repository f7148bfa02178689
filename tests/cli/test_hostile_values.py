"""Output that cannot be turned against its reader (Faults): a control character in a user value is shown
escaped on the terminal, a CSV cell a spreadsheet would run as a formula gets OWASP's leading quote, a `$`
in a label is drawn as it is (no mathtext), and a hyperparameter beyond float32 is refused at validation."""

from __future__ import annotations

import csv

import pytest
from conftest import CONFIGS, run_folders

from dltool.text import printable, spreadsheet_safe

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"
TITLE_ESCAPE = "/tmp/a\x1b]0;pwned\x07"  # would set the terminal window's title


@pytest.mark.filterwarnings("error")  # a raw control character in a picture: matplotlib warns of its glyph
def test_control_characters_are_escaped_and_formulas_quoted(dltool, runs_dir):
    grid = f"data.root={TITLE_ESCAPE},=cmd|calc"
    result = dltool("sweep", CONFIG, "--grid", grid, "--set", "train.epochs=1", "--jobs", "1")
    assert result.exit_code == 0, result.output
    (sweep,) = [f for f in run_folders(runs_dir) if "-sweep-" in f.name]
    for output in (result.output, dltool("show", sweep.name).output, dltool("runs", "--members").output):
        assert "\x1b]" not in output and "\x07" not in output
    assert "/tmp/a\\x1b]0;pwned\\x07" in result.output
    with open(sweep / "results.csv", newline="") as handle:
        cells = {row["data.root"] for row in csv.DictReader(handle)}
    assert "'=cmd|calc" in cells and TITLE_ESCAPE in cells  # the file keeps the value; only formulas are quoted


def test_the_rules_on_their_own():
    assert printable("a\x1b[2Jb\tc\nd\x9b") == "a\\x1b[2Jb\\x09c\nd\\x9b"
    cells = ("=1+2", "+x", "-x", "@SUM(A1)", "-0.5", "-", "adam", -3, "-0.057646 -0.000073", "-1 =cmd")
    assert [spreadsheet_safe(v) for v in cells] == [
        "'=1+2", "'+x", "'-x", "'@SUM(A1)", "-0.5", "-", "adam", -3, "-0.057646 -0.000073", "'-1 =cmd",
    ]  # fmt: skip


def test_a_dollar_in_a_label_is_plain_text_and_the_pictures_are_drawn(dltool, runs_dir):
    result = dltool("sweep", CONFIG, "--grid", "data.root=a$b,c$d$e", "--set", "train.epochs=1", "--jobs", "1")
    assert result.exit_code == 0, result.output
    (sweep,) = [f for f in run_folders(runs_dir) if "-sweep-" in f.name]
    assert {p.name for p in (sweep / "plots").iterdir()} == {"curves.png", "metric_vs_data.root.png"}
    assert "warning" not in result.output.lower()


@pytest.mark.parametrize("key", ["optimizer.lr", "optimizer.weight_decay"])
def test_a_hyperparameter_beyond_float32_is_refused_before_anything_runs(dltool, runs_dir, key):
    result = dltool("train", CONFIG, "--set", f"{key}=1e39")
    assert result.exit_code == 2
    assert f"--set {key}=1e39: expected at most 3.4e+38, float32's largest" in result.output
    assert "Traceback" not in result.output and not run_folders(runs_dir)
