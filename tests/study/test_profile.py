"""compare-optimizers across problems: each problem's comparison, then the rank table and the Dolan–Moré
performance profile. Oracles: each comparison's own verdict (its standings' means) and hand-computed
ratios on constructed measures."""

from __future__ import annotations

import json
import math

import pytest
from conftest import run_folders

from dltool.cli.study import chosen_problems
from dltool.plots.profile import profile, ratios
from dltool.study.kinds.profile import rank_rows
from dltool.study.protocol import ALL_PROBLEMS


def test_ratios_profile_and_ranks_on_constructed_measures():
    table = {"p1": {"adam": 1.0, "sgd": 2.0}, "p2": {"adam": 3.0, "sgd": 1.5, "momentum": 1.5}}
    r = ratios(table)
    assert r["adam"] == {"p1": 1.0, "p2": 2.0}
    assert r["sgd"] == {"p1": 2.0, "p2": 1.0}
    assert r["momentum"]["p1"] == math.inf  # no result on p1: never within any factor
    assert [profile(r["adam"], tau) for tau in (1.0, 1.9, 2.0)] == [0.5, 0.5, 1.0]
    assert profile(r["momentum"], 1e9) == 0.5
    rows = {row.optimizer: row for row in rank_rows(table)}
    assert (rows["adam"].ranks["p1"], rows["adam"].ranks["p2"], rows["adam"].mean_rank) == (1, 3, 2.0)
    assert rows["momentum"].ranks["p1"] == 3  # unranked: last place


def test_all_is_the_regression_and_classification_problems():
    assert chosen_problems("all") == ALL_PROBLEMS == ("airfoil", "fashion-mnist")
    assert chosen_problems("airfoil,quadratic2d") == ("airfoil", "quadratic2d")


def test_several_problems_get_a_rank_table_and_a_profile(dltool, runs_dir):
    args = ("--optimizers", "sgd,adam", "--impl", "torch", "--jobs", "1")
    result = dltool("compare-optimizers", "-q", "--problem", "airfoil,quadratic2d", *args)
    assert result.exit_code == 0, result.output
    folders = {
        json.loads((p / "study.json").read_text())["kind"]: p
        for p in run_folders(runs_dir)
        if (p / "study.json").exists()
    }
    profile_study = json.loads((folders["profile"] / "study.json").read_text())
    comparisons = profile_study["plan"]["comparisons"]
    assert set(comparisons) == {"airfoil", "quadratic2d"}
    for problem, study_id in comparisons.items():
        verdict = json.loads((runs_dir / study_id / "study.json").read_text())["results"]["verdict"]
        best = {}  # per optimizer, the best mean among its settings and impls
        for standing in (s for s in verdict["contenders"] if s["mean"] is not None):
            name = standing["name"].split()[0]
            best[name] = min(best.get(name, math.inf), standing["mean"])
        assert profile_study["plan"]["measures"][problem] == pytest.approx(best)
        ordered = sorted(best, key=best.get)
        for row in profile_study["results"]["ranks"]:
            assert row["ranks"][problem] == ordered.index(row["optimizer"]) + 1
    assert (folders["profile"] / "plots" / "performance_profile.png").stat().st_size > 10_000
    assert "| optimizer | airfoil | quadratic2d | mean rank |" in (folders["profile"] / "results.md").read_text()
    shown = dltool("show", folders["profile"].name)
    assert shown.exit_code == 0 and "optimizers across airfoil, quadratic2d" in shown.output
    assert dltool("plot", folders["profile"].name).stdout.strip().endswith("performance_profile.png")
