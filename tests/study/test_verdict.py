"""The verdict rule on constructed member results: a clear winner, a tie, one seed, identical impls; and the
rule itself against an oracle built here from SciPy (Welch's t-test, t intervals) and Holm's procedure
written out as adjusted p-values, on hand-made and generated per-seed loss tables."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dltool.results.groups import Group, group_stats
from dltool.results.members import MemberResult
from dltool.results.stats import holm_rejected, mean_interval, welch_p
from dltool.results.verdict import ALPHA, Standing, rule, standings_of
from dltool.store.study import MemberEntry


def standings(**values: list[float]) -> list[Standing]:
    return [Standing(name, (name,), tuple(losses)) for name, losses in values.items()]


def test_a_clear_winner_over_five_seeds():
    ruling = rule(standings(adam=[0.240, 0.241, 0.2405, 0.2398, 0.2402], sgd=[0.250, 0.251, 0.2505, 0.2498, 0.2502]), 5)
    assert ruling.winner == "adam"
    adam, sgd = ruling.standings
    assert (adam.rank, sgd.rank) == (1, 2) and adam.tied_for_best and not sgd.tied_for_best
    assert adam.ci_low < adam.mean < adam.ci_high < sgd.ci_low  # the intervals do not overlap


def test_a_difference_inside_the_seed_spread_is_a_tie():
    ruling = rule(standings(adam=[0.240, 0.244, 0.238, 0.246, 0.241], momentum=[0.241, 0.239, 0.247, 0.243, 0.240]), 5)
    assert ruling.winner is None and all(s.tied_for_best for s in ruling.standings)
    assert "Welch" in ruling.rule and "Holm" in ruling.rule


def test_holm_correction_keeps_a_borderline_contender_tied():
    """Two contenders each worse at p ~ 0.03: uncorrected both would be worse; Holm rejects neither
    (the smaller p is compared with alpha / 2)."""
    best = [0.0, 0.1, 0.2, 0.3, 0.4]
    a = [0.25, 0.35, 0.45, 0.55, 0.65]
    p = scipy.stats.ttest_ind(a, best, equal_var=False).pvalue
    assert 0.025 < p < 0.05
    ruling = rule(standings(best=best, a=a, b=list(a)), 5)
    assert [s.tied_for_best for s in ruling.standings] == [True, True, True]


def test_one_seed_claims_no_winner_inside_the_tolerance():
    ruling = rule(standings(momentum=[0.242194], adam=[0.242301], sgd=[0.30]), 1)
    assert ruling.winner is None
    assert [(s.name, s.tied_for_best) for s in ruling.standings] == [("momentum", True), ("adam", True), ("sgd", False)]
    assert ruling.standings[0].ci_low is None  # no interval from one value
    assert "--seeds 5" in ruling.rule
    clear = rule(standings(momentum=[0.24], sgd=[0.30]), 1)
    assert clear.winner == "momentum"  # a gap beyond the tolerance is a winner even with one seed


def test_a_diverged_seed_is_not_ranked():
    ruling = rule([*standings(adam=[0.24, 0.25]), Standing("sgd", ("sgd",), None)], 2)
    assert [s.name for s in ruling.standings] == ["adam", "sgd"]
    assert ruling.standings[1].rank is None and not ruling.standings[1].tied_for_best
    assert ruling.winner == "adam"


def group(variant: str, impl: str, losses: list[float]) -> Group:
    results = []
    for seed, loss in enumerate(losses):
        entry = MemberEntry(f"{variant} · {impl}", variant, "", variant.split()[0], impl, seed, {}, 0.1, 10)
        results.append(MemberResult(entry, None, "completed", ({"loss": loss},)))
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
    verdict = rule(found, 2)
    assert verdict.of(groups[0]) == verdict.of(groups[1])  # one row, one rank
    assert verdict.of(groups[2]) != verdict.of(groups[3])


def oracle(tables: dict[str, list[float]]) -> tuple[list[str], dict[str, bool]]:
    """The contenders by mean, and which are tied for best: SciPy's Welch test of each against the best, then
    Holm's procedure written as adjusted p-values (running max of (m - k) * p, sorted), not stats.py's loop."""
    order = sorted(tables, key=lambda name: np.mean(tables[name]))
    best, others = order[0], order[1:]
    p = {name: scipy.stats.ttest_ind(tables[name], tables[best], equal_var=False).pvalue for name in others}
    adjusted, running = {}, 0.0
    for k, name in enumerate(sorted(others, key=p.get)):
        running = max(running, min(1.0, (len(others) - k) * p[name]))
        adjusted[name] = running
    return order, {best: True} | {name: bool(adjusted[name] > ALPHA) for name in others}


TABLES = {
    "worse": [0.262, 0.266, 0.259, 0.268, 0.263],  # the best's spread, two hundredths higher
    "wide": [0.22, 0.27, 0.25, 0.29, 0.23],  # a higher mean, but seeds too spread to tell
    "best": [0.240, 0.244, 0.238, 0.246, 0.241],
    "same": [0.241, 0.239, 0.247, 0.243, 0.240],  # inside the best's spread
}


def test_ties_are_welch_against_the_best_with_holm_as_scipy_finds_them():
    best = TABLES["best"]
    assert scipy.stats.ttest_ind(TABLES["worse"], best, equal_var=False).pvalue < 1e-4
    assert scipy.stats.ttest_ind(TABLES["same"], best, equal_var=False).pvalue > 0.5
    assert scipy.stats.ttest_ind(TABLES["wide"], best, equal_var=False).pvalue > 0.2
    ruling = rule(standings(**TABLES), 5)
    order, tied = oracle(TABLES)
    assert [s.name for s in ruling.standings] == order == ["best", "same", "wide", "worse"]
    found = {s.name: s.tied_for_best for s in ruling.standings}
    assert found == tied == {"best": True, "same": True, "wide": True, "worse": False}
    assert ruling.winner is None  # "same" and "wide" cannot be told from the best


def test_a_contender_clearly_worse_by_scipy_loses_through_the_tables_groups():
    groups = [
        group("sgd lr=0.1", "torch", TABLES["worse"]),
        group("adam lr=0.01", "torch", TABLES["best"]),
    ]
    ruling = rule(standings_of(groups, {}), 5)
    order, tied = oracle({"sgd lr=0.1 · torch": TABLES["worse"], "adam lr=0.01 · torch": TABLES["best"]})
    assert [s.name for s in ruling.standings] == order == ["adam lr=0.01 · torch", "sgd lr=0.1 · torch"]
    assert [s.tied_for_best for s in ruling.standings] == [tied[name] for name in order] == [True, False]
    assert ruling.winner == "adam lr=0.01 · torch"
    assert ruling.of(groups[0]).rank == 2 and ruling.of(groups[1]).rank == 1  # the tables' rows get the standings


def test_unequal_spreads_are_welchs_test_not_students():
    """A tight best and a widely spread contender: Student's pooled test would call it worse, Welch's does not."""
    tables = {"tight": [0.2400, 0.2402, 0.2399, 0.2401, 0.2403], "spread": [0.24, 0.29, 0.26, 0.30, 0.25]}
    assert scipy.stats.ttest_ind(tables["spread"], tables["tight"], equal_var=True).pvalue < ALPHA
    assert scipy.stats.ttest_ind(tables["spread"], tables["tight"], equal_var=False).pvalue > ALPHA
    ruling = rule(standings(**tables), 5)
    assert {s.name: s.tied_for_best for s in ruling.standings} == oracle(tables)[1] == {"tight": True, "spread": True}
    assert ruling.winner is None


def test_intervals_are_scipys_t_interval_and_ranks_follow_the_means():
    ruling = rule(standings(**TABLES), 5)
    for standing in ruling.standings:
        values = TABLES[standing.name]
        expected = scipy.stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy.stats.sem(values))
        assert standing.mean == pytest.approx(np.mean(values), rel=1e-12)
        assert (standing.ci_low, standing.ci_high) == pytest.approx(expected, rel=1e-12)
    assert [s.rank for s in ruling.standings] == [1, 2, 3, 4]
    assert [s.name for s in ruling.standings] == [
        list(TABLES)[i] for i in np.argsort([np.mean(v) for v in TABLES.values()])
    ]


def test_no_spread_is_decided_where_scipy_has_no_answer():
    flat = {"a": [0.25, 0.25, 0.25], "b": [0.25, 0.25, 0.25], "c": [0.26, 0.26, 0.26]}
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):  # SciPy: 0 / 0
        assert np.isnan(scipy.stats.ttest_ind(flat["a"], flat["b"], equal_var=False).pvalue)
    assert (welch_p(flat["a"], flat["b"]), welch_p(flat["c"], flat["a"])) == (1.0, 0.0)
    ruling = rule(standings(**flat), 3)
    assert [(s.name, s.tied_for_best) for s in ruling.standings] == [("a", True), ("b", True), ("c", False)]
    assert mean_interval(flat["c"]) == (0.26, 0.26, 0.26)  # no spread, no width (SciPy's t.interval: nan)


def _distinct(seeds: list[int]) -> bool:
    return len(set(seeds)) > 1


contenders = st.integers(2, 6).flatmap(
    lambda n: st.lists(st.lists(st.integers(0, 60), min_size=n, max_size=n).filter(_distinct), min_size=2, max_size=5)
)


@settings(max_examples=60, deadline=None)
@given(contenders)
def test_generated_tables_get_the_oracles_ranks_ties_and_intervals(columns):
    tables = {f"c{i}": [0.2 + 1e-3 * x for x in seeds] for i, seeds in enumerate(columns)}
    means = sorted(np.mean(v) for v in tables.values())
    assume(all(high - low > 1e-9 for low, high in zip(means, means[1:])))  # one order, whoever computes the mean
    ruling = rule(standings(**tables), len(columns[0]))
    order, tied = oracle(tables)
    assert [s.name for s in ruling.standings] == order
    assert [s.rank for s in ruling.standings] == list(range(1, len(order) + 1))
    assert {s.name: s.tied_for_best for s in ruling.standings} == tied
    assert ruling.winner == (order[0] if sum(tied.values()) == 1 else None)
    for standing in ruling.standings:
        values = tables[standing.name]
        expected = scipy.stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy.stats.sem(values))
        assert (standing.ci_low, standing.ci_high) == pytest.approx(expected, rel=1e-9)


def test_scipy_is_imported_only_when_a_verdict_is_computed():
    """scipy.stats takes most of a second to import: `dltool runs` and `show` must not pay for it."""
    code = "import sys, dltool.cli, dltool.results.comparison; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_holm_steps_down():
    rejected = holm_rejected({"a": 0.01, "b": 0.04, "c": 0.03}, 0.05)
    # 0.01 <= 0.05/3 rejected; then 0.03 > 0.05/2 stops: 0.03 and 0.04 are kept
    assert rejected == {"a": True, "c": False, "b": False}
