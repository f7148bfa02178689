"""The verdict's building blocks: which groups are one contender, each contender's own interval, and
SciPy loaded only when a verdict is computed. The rule itself: test_sound_verdict.py."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.stats

from dltool.results.groups import Group, group_stats
from dltool.results.members import MemberResult
from dltool.results.verdict import Rule, rule, standings_of
from dltool.store.study import MemberEntry


def group(variant: str, impl: str, losses: list[float], status: str = "completed") -> Group:
    results = []
    for seed, loss in enumerate(losses):
        entry = MemberEntry(f"{variant} · {impl}", variant, "", variant.split()[0], impl, seed, {}, 0.1, 10)
        results.append(MemberResult(entry, None, status, ({"loss": loss, "step": 1, "time": 0.1},)))
    return Group(f"{variant} · {impl}", tuple(results), group_stats(tuple(results)))


def test_identical_impls_are_one_contender_and_different_ones_two():
    groups = [
        group("adam lr=0.01", "scratch", [0.24, 0.25]),
        group("adam lr=0.01", "torch", [0.24, 0.25]),
        group("adagrad lr=0.1", "scratch", [0.26, 0.27]),
        group("adagrad lr=0.1", "torch", [0.2601, 0.2701]),
    ]
    found = standings_of(groups, {"adam lr=0.01": 2e-7, "adagrad lr=0.1": 4e-4})
    assert [s.name for s in found] == [
        "adam lr=0.01 (scratch = torch)",
        "adagrad lr=0.1 · scratch",
        "adagrad lr=0.1 · torch",
    ]
    verdict = rule(found, Rule(0.01, 2, False, True, "full"))
    assert verdict.of(groups[0]) == verdict.of(groups[1])  # one row, one rank
    assert verdict.of(groups[2]) != verdict.of(groups[3])


def test_a_diverged_impl_is_its_own_contender_named_for_what_happened():
    groups = [group("sgd lr=1", "scratch", [0.3, 0.3], "diverged"), group("sgd lr=1", "torch", [0.3, 0.3])]
    found = {s.name: s for s in standings_of(groups, {"sgd lr=1": 0.0})}
    assert found["sgd lr=1 · scratch"].failure == "diverged" and found["sgd lr=1 · torch"].failure is None


def test_each_contenders_interval_is_scipys_t_interval():
    tables = {"a": [0.24, 0.25, 0.245, 0.243], "b": [0.30, 0.28, 0.31, 0.29]}
    verdict = rule(
        standings_of([group(name, "torch", v) for name, v in tables.items()], {}), Rule(0.01, 4, False, True, None)
    )
    for standing in verdict.standings:
        values = tables[standing.name.split(" ·")[0]]
        expected = scipy.stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy.stats.sem(values))
        assert (standing.ci_low, standing.ci_high) == pytest.approx(expected, rel=1e-9)


def test_scipy_is_imported_only_when_a_verdict_is_computed():
    """scipy.stats takes most of a second to import: `dltool runs` and `show` must not pay for it."""
    code = "import sys, dltool.cli, dltool.results.comparison; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
