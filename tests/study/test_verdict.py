"""The verdict rule on constructed member results: a clear winner, a tie, one seed, identical impls,
and its statistics against SciPy's (the oracle: t distribution, Welch's test, confidence intervals)."""

from __future__ import annotations

import pytest
import scipy.stats

from dltool.store.study import MemberEntry
from dltool.study.results import Group, MemberResult
from dltool.study.stats import holm_rejected, mean_interval, t_cdf, t_quantile, welch_p
from dltool.study.verdict import Standing, rule, standings_of


def standings(**values: list[float]) -> list[Standing]:
    return [Standing(name, [name], losses) for name, losses in values.items()]


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
    p = welch_p(a, best)
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
    ruling = rule([*standings(adam=[0.24, 0.25]), Standing("sgd", ["sgd"], None)], 2)
    assert [s.name for s in ruling.standings] == ["adam", "sgd"]
    assert ruling.standings[1].rank is None and not ruling.standings[1].tied_for_best
    assert ruling.winner == "adam"


def group(variant: str, impl: str, losses: list[float]) -> Group:
    results = []
    for seed, loss in enumerate(losses):
        entry = MemberEntry(f"{variant} · {impl}", variant, "", variant.split()[0], impl, seed, {}, 0.1, 10)
        results.append(MemberResult(entry, None, "completed", [{"loss": loss}]))
    return Group(f"{variant} · {impl}", results)


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
    assert groups[0].standing is groups[1].standing  # one row, one rank
    assert groups[2].standing is not groups[3].standing


@pytest.mark.parametrize("df", [1, 2, 4.5, 9, 30, 200])
def test_t_distribution_matches_scipy(df):
    for t in (-4.0, -1.3, 0.0, 0.4, 2.0, 6.0):
        assert t_cdf(t, df) == pytest.approx(scipy.stats.t.cdf(t, df), abs=1e-12)
    assert t_quantile(0.975, df) == pytest.approx(scipy.stats.t.ppf(0.975, df), rel=1e-9)


def test_welch_and_the_interval_match_scipy():
    a, b = [0.2401, 0.2412, 0.2405, 0.2399, 0.2420], [0.2451, 0.2440, 0.2460, 0.2448, 0.2455, 0.2439]
    assert welch_p(a, b) == pytest.approx(scipy.stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-9)
    mean, low, high = mean_interval(a)
    expected = scipy.stats.t.interval(0.95, len(a) - 1, loc=mean, scale=scipy.stats.sem(a))
    assert (low, high) == pytest.approx(expected, rel=1e-12)


def test_holm_steps_down():
    rejected = holm_rejected({"a": 0.01, "b": 0.04, "c": 0.03}, 0.05)
    # 0.01 <= 0.05/3 rejected; then 0.03 > 0.05/2 stops: 0.03 and 0.04 are kept
    assert rejected == {"a": True, "c": False, "b": False}
