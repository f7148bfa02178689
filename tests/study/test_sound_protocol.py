"""A comparison's protocol as a reviewer checks it: tuning runs never judge themselves, selection reads
the validation split and the verdict the test split, diverging settings rank last, deterministic problems
claim no seed statistics, and time to target counts the seeds that reached it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import run_dir, run_folders

from dltool.results.comparison import Judging, judge_comparison
from dltool.results.members import MemberResult
from dltool.store.study import MemberEntry
from dltool.study.kinds.compare import verdict_cells


def studies(runs_dir: Path) -> dict[str, list[dict]]:
    """kind -> the study.json of each study of that kind."""
    found: dict[str, list[dict]] = {}
    for folder in run_folders(runs_dir):
        if (folder / "study.json").is_file():
            data = json.loads((folder / "study.json").read_text())
            found.setdefault(data["kind"], []).append(data)
    return found


def summary(runs_dir: Path, run_id: str) -> dict:
    return json.loads((run_dir(runs_dir, run_id) / "summary.json").read_text())


def test_a_diverging_learning_rate_ranks_last_and_is_never_best_or_equivalent(dltool, runs_dir):
    """sgd at 20x the notes' lr on airfoil runs away on every seed: it was 'tied for best'."""
    args = ("--optimizers", "sgd", "--impl", "torch", "--lr-scale", "1,20", "--seeds", "3", "--jobs", "2")
    result = dltool("compare-optimizers", "-q", *args)
    assert result.exit_code == 0, result.output
    (comparison,) = studies(runs_dir)["compare"]
    contenders = comparison["results"]["verdict"]["contenders"]
    assert [c["name"] for c in contenders] == ["sgd lr=0.05 · torch", "sgd lr=1 · torch"]
    wild = contenders[1]
    assert wild["rank"] == 2 and wild["label"] in ("diverged", "diverging") and wild["failure"] == wild["label"]
    assert "Failed: sgd lr=1 · torch" in result.output and "Best: sgd lr=0.05 · torch." in result.output


def test_tuning_and_final_runs_use_disjoint_seeds_and_the_verdict_reads_the_test_split(dltool, runs_dir):
    """Fashion-MNIST: trials select on the validation split with the config's seed; the final runs have seeds
    of their own and are judged on the test split, the validation loss kept beside it."""
    sets = ("data.train_size=2000", "data.validation=500", "train.epochs=1", "data.batch_size=100")
    args = ["--problem", "fashion-mnist", "--optimizers", "sgd,adam", "--impl", "torch", "--tune", "2"]
    args += ["--seeds", "2", "--jobs", "2", *(f"--set={text}" for text in sets)]
    result = dltool("compare-optimizers", "-q", *args)
    assert result.exit_code == 0, result.output
    found = studies(runs_dir)
    (comparison,) = found["compare"]
    plan, results = comparison["plan"], comparison["results"]
    assert plan["tuning_seed"] == 0 and plan["final_seeds"] == [1000, 1001]
    trial_runs = {m["run_id"] for tune in found["tune"] for m in tune["members"]}
    final_runs = {m["run_id"] for m in comparison["members"]}
    assert not trial_runs & final_runs and {m["seed"] for tune in found["tune"] for m in tune["members"]} == {0}
    assert {m["seed"] for m in comparison["members"]} == {1000, 1001}
    for tune in found["tune"]:  # the chosen trial is no final member, and selection read the validation split
        assert tune["plan"]["split"] == "valid" and tune["plan"]["best"]["run_id"] not in final_runs
    assert results["split"] == "test" and results["verdict"]["rule"]["split"] == "test"
    for row in comparison["member_results"]:
        assert row["final_loss"] == pytest.approx(summary(runs_dir, row["run_id"])["final"]["test_loss"])
    for group in results["groups"]:
        losses = [summary(runs_dir, m["run_id"])["final"]["valid_loss"] for m in comparison["members"]
                  if m["group"] == group["group"]]  # fmt: skip
        assert group["valid_loss"][0] == pytest.approx(sum(losses) / len(losses))
    table = (runs_dir / comparison["id"] / "results.md").read_text()
    assert "final loss (test)" in table and "valid loss (test − valid)" in table and "on the test split" in table


def test_a_deterministic_problem_repeats_one_run_and_is_judged_by_value(dltool, runs_dir):
    """quadratic2d has no randomness: three seeds give identical runs, so no interval, test or seed advice."""
    result = dltool("compare-optimizers", "-q", "--problem", "quadratic2d", "--seeds", "3", "--jobs", "2")
    assert result.exit_code == 0, result.output
    (comparison,) = studies(runs_dir)["compare"]
    verdict = comparison["results"]["verdict"]
    assert comparison["plan"]["deterministic"] and verdict["rule"]["deterministic"]
    assert all(c["diff_low"] is None and c["seeds_needed"] is None for c in verdict["contenders"])
    assert {c["label"] for c in verdict["contenders"]} <= {"best", "equivalent", "worse", "diverged", "diverging"}
    assert "repeat identical runs" in result.output and "Best by value:" in result.output
    assert "--seeds" not in result.output


def member(seed: int, losses: list[float], times: list[float]) -> MemberResult:
    entry = MemberEntry("adagrad · torch", "adagrad", "", "adagrad", "torch", seed, {"lr": 0.1}, 0.1, 256)
    records = tuple({"loss": loss, "time": t, "step": 10 * (i + 1)} for i, (loss, t) in enumerate(zip(losses, times)))
    return MemberResult(entry, None, "completed", records, split="test")


def test_time_to_target_is_over_the_seeds_that_reached_it_with_their_count():
    """AdaGrad on Fashion-MNIST: one seed of three reached the target at 0.34 s; the table showed '-'."""
    reached = member(0, [0.9, 0.55], [0.2, 0.34])
    missed = [member(1, [0.9, 0.7], [0.2, 0.35]), member(2, [0.9, 0.65], [0.2, 0.36])]
    results = judge_comparison([reached, *missed], Judging(seeds=3, given_target=0.6))
    headings, rows, _ = verdict_cells(results, 3, toy=False)
    assert rows[0][headings.index("time to target")] == "0.340 s (1/3)"
    none = judge_comparison(missed, Judging(seeds=2, given_target=0.6))
    headings, rows, _ = verdict_cells(none, 2, toy=False)
    assert rows[0][headings.index("time to target")] == "not reached"


def test_results_csv_names_each_members_split(dltool, runs_dir):
    assert dltool("compare-optimizers", "-q", "--optimizers", "sgd", "--impl", "torch", "--jobs", "1").exit_code == 0
    (comparison,) = studies(runs_dir)["compare"]
    with open(runs_dir / comparison["id"] / "results.csv") as handle:
        assert {row["split"] for row in csv.DictReader(handle)} == {"full"}


def contender(name: str, losses: list[float]) -> list[MemberResult]:
    results = []
    for seed, loss in enumerate(losses):
        entry = MemberEntry(f"{name} · torch", name, "", name.split()[0], "torch", seed, {"lr": 0.1}, 0.1, 10)
        records = ({"loss": 1.0, "time": 0.1, "step": 1}, {"loss": loss, "time": 0.2, "step": 2})
        results.append(MemberResult(entry, None, "completed", records, split="full"))
    return results


def test_the_verdict_sentence_names_every_best_and_equivalent_contender_and_the_rest():
    """Case 2: the sentence listed the 'tied' and left out the second best, which was 'worse'."""
    from dltool.study.kinds.compare import verdict_line

    members = [
        *contender("adam lr=0.01", [0.300, 0.302, 0.298, 0.301, 0.299]),
        *contender("rmsprop lr=0.01", [0.3005, 0.3022, 0.2986, 0.3013, 0.2993]),
        *contender("sgd lr=0.05", [0.310, 0.312, 0.308, 0.311, 0.309]),
        *contender("adagrad lr=0.1", [0.25, 0.40, 0.33, 0.28, 0.36]),
    ]
    results = judge_comparison(members, Judging(seeds=5))
    labels = {s.name: s.label for s in results.verdict.standings}
    assert list(labels.values()) == ["best", "equivalent", "worse", "inconclusive"]
    line = verdict_line(results)
    assert line.startswith("Best: adam lr=0.01 · torch. Equivalent to it (within ±1.0% of its loss): rmsprop")
    assert "Worse: sgd lr=0.05 · torch." in line and "Inconclusive, more seeds needed: adagrad lr=0.1" in line


def test_ctrl_c_while_the_results_are_written_leaves_an_interrupted_study(dltool, runs_dir, monkeypatch):
    """The members have ended; a Ctrl-C while the tables and pictures are written is an interruption (the
    study's files can be redone by `show` and `report`), not a crash."""
    import dltool.study.lifecycle as lifecycle

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lifecycle, "conclude", interrupted)
    result = dltool("compare-optimizers", "-q", "--optimizers", "sgd", "--impl", "torch", "--jobs", "1")
    assert result.exit_code == 130
    (comparison,) = studies(runs_dir)["compare"]
    assert comparison["status"] == "interrupted" and comparison["members"][0]["status"] == "completed"
