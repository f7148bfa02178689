"""summary.json is written by training through the one validating writer (Run.write_summary): what a
real run writes, for each way a run ends, is what SummaryRecord (the readers' model) declares, field by
field; and a summary the readers would call damaged is refused before it reaches the run folder.

Oracles: SummaryRecord's declared fields, the readers (Run.read_summary), and status.json."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from dltool.config import load_config, load_registries
from dltool.store.records import SummaryRecord
from dltool.store.run import Run
from dltool.train import run as training
from dltool.train.engine import Pruned
from tests.conftest import CONFIGS, only_run

load_registries()

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"
ONE_EPOCH = ["train.epochs=1"]  # 150 steps, a record every 100 examples
TIMINGS = {"steps", "epochs", "examples", "train_time_s", "wall_time_s", "examples_per_s", "parts"}
ALWAYS = {"status", "final", "best", "eval_split"} | TIMINGS


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    monkeypatch.setattr(training, "draw_run_plots", lambda run: None)


@pytest.fixture
def written(monkeypatch) -> list[dict]:
    """What training hands Run.write_summary, call by call (the real writer still writes)."""
    calls: list[dict] = []
    real = Run.write_summary

    def spy(run: Run, summary: dict) -> None:
        calls.append(json.loads(json.dumps(summary)))  # as it would read back
        real(run, summary)

    monkeypatch.setattr(Run, "write_summary", spy)
    return calls


def prune_at(step: int):
    def watch(record: dict) -> None:
        if record["step"] >= step:
            raise Pruned(record["step"])

    return watch


def read_back(folder) -> dict:
    """summary.json as the readers see it: sound, and every key one SummaryRecord declares (none passed
    through untyped as an extra key)."""
    summary = json.loads((folder / "summary.json").read_text())
    assert Run(folder).read_summary() == (summary, None)
    assert set(summary) <= set(SummaryRecord.model_fields), set(summary) - set(SummaryRecord.model_fields)
    return summary


def test_a_completed_run_writes_its_summary_through_the_validating_writer(runs_dir, written):
    outcome = training.train(load_config(AIRFOIL, ONE_EPOCH), runs_dir, quiet=True, plots=False)
    folder = only_run(runs_dir)
    summary = read_back(folder)
    assert written == [summary] and outcome.summary == summary
    assert set(summary) == ALWAYS and summary["status"] == "completed" and summary["steps"] == 150
    assert set(summary["final"]) == {"train_loss", "full_loss"} and set(summary["best"]) == {"full_loss"}
    assert summary["eval_split"] == "full" and summary["best"]["full_loss"] <= summary["final"]["full_loss"]


def test_a_diverged_run_writes_a_typed_error_and_step(runs_dir, written):
    config = load_config(AIRFOIL, [*ONE_EPOCH, "optimizer.lr=1e30"])
    assert training.train(config, runs_dir, quiet=True, plots=False).status == "diverged"
    folder = only_run(runs_dir)
    summary = read_back(folder)
    status = json.loads((folder / "status.json").read_text())
    assert written == [summary] and {"error", "diverged_at_step"} <= set(summary)
    assert summary["diverged_at_step"] == status["diverged_at_step"] >= 1 and summary["error"] == status["error"]


def test_a_pruned_run_writes_a_typed_step_and_its_epoch_so_far(runs_dir, written):
    outcome = training.train(load_config(AIRFOIL, ONE_EPOCH), runs_dir, quiet=True, plots=False, watch=prune_at(50))
    assert outcome.status == "pruned"
    folder = only_run(runs_dir)
    summary = read_back(folder)
    assert written == [summary] and set(summary) == ALWAYS | {"pruned_at_step", "epoch_so_far"}
    assert summary["pruned_at_step"] == summary["steps"] == json.loads((folder / "status.json").read_text())["step"]
    assert 50 <= summary["steps"] < 150 and set(summary["epoch_so_far"]) == {"train_loss", "steps"}


@pytest.mark.parametrize(
    ("bug", "field"),
    [
        ({"steps": -1}, "steps"),
        ({"final": {"full_loss": "low"}}, "final.full_loss"),
        ({"status": "crashed"}, "status"),  # shown by readers, never written
        ({"pruned_at_step": 2.5}, "pruned_at_step"),
    ],
)
def test_training_refuses_to_write_a_summary_readers_would_call_damaged(runs_dir, monkeypatch, bug, field):
    """A bug in what training puts into its summary fails the run loudly; no damaged summary.json is left."""
    real = training.summarize
    monkeypatch.setattr(training, "summarize", lambda *args: {**real(*args), **bug})
    with pytest.raises(ValidationError) as refused:
        training.train(load_config(AIRFOIL, ONE_EPOCH), runs_dir, quiet=True, plots=False)
    assert refused.value.title == "SummaryRecord"
    assert [".".join(map(str, error["loc"])) for error in refused.value.errors()] == [field]
    assert not (only_run(runs_dir) / "summary.json").exists()
