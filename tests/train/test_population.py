"""The population engine: members trained as one stacked computation record what each would alone (the
oracle: the same config through `dltool train`'s path), every member keeps an ordinary run folder, the
verdict does not depend on the engine, a diverging member ends alone, an interrupted population resumes
to the same results, and a population too big for memory is split."""

from __future__ import annotations

import json
import os
import signal

import pytest
from conftest import CONFIGS, run_dir, run_folders

from dltool.config import load_registries, validate
from dltool.study import populations
from dltool.study.problems import PROBLEMS
from dltool.train import population
from dltool.train.run import train

load_registries()
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam")
FASHION_SUBSET = {"train_size": 6000, "test_size": 1000}  # softmax regression on Fashion-MNIST, 1 epoch


def configs(problem: str, **data) -> list:
    """Each optimizer in both impls (model and optimizer alike) on a problem's base config."""
    made = []
    for name in OPTIMIZERS:
        for impl in ("scratch", "torch"):
            base = json.loads(json.dumps(PROBLEMS[problem].base))
            base["model"]["impl"] = impl
            base["optimizer"] = {"name": name, "impl": impl}
            base["data"].update(data)
            base["train"]["epochs"] = 1 if data else base["train"]["epochs"]
            made.append(validate({**base, "seed": 7, "threads": 1}, problem, []))
    return made


def losses(folder) -> list[tuple[int, str, float]]:
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["split"], r["loss"]) for r in records]


@pytest.mark.parametrize("problem, data", [("airfoil", {}), ("fashion-mnist", FASHION_SUBSET)])
def test_every_member_records_what_it_would_alone(problem, data, tmp_path):
    made = configs(problem, **data)
    members = []
    for impl in ("scratch", "torch"):  # the two model impls are two architectures: two populations
        members += population.train_population([c for c in made if c.model.impl == impl], tmp_path / "pop", None)
    assert {m.status for m in members} == {"completed"} and len(members) == 12
    for member in members:
        alone = train(member.config, tmp_path / "alone", quiet=True, plots=False)
        mine, theirs = losses(member.run.folder), losses(alone.run.folder)
        assert [r[:2] for r in mine] == [r[:2] for r in theirs]  # the same evaluations, in the same order
        for (step, _, got), (_, _, want) in zip(mine, theirs):
            assert got == pytest.approx(want, rel=1e-5), (member.config.optimizer.name, member.config.model.impl, step)
        summary = json.loads((member.run.folder / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["steps"] == alone.summary["steps"]
        # its parameters are rows of the population's tensors; its checkpoint holds its own only
        sizes = [(run / "checkpoints" / "last.pt").stat().st_size for run in (member.run.folder, alone.run.folder)]
        assert abs(sizes[0] - sizes[1]) < 1024, sizes


def test_the_members_clocks_start_with_their_training(tmp_path):
    """A member's time is the population's training clock: the initial evaluation at (about) zero, not after
    the other members' folders were made, which put the first points of loss_time.png up to 30 ms apart."""
    made = [c for c in configs("airfoil") if c.model.impl == "torch"]
    members = population.train_population(made, tmp_path / "pop", None)
    for member in members:
        records = [json.loads(line) for line in (member.run.folder / "metrics.jsonl").read_text().splitlines()]
        first, second = records[0]["time"], records[1]["time"]
        assert first < (second - first) / 2, (member.config.optimizer.name, first, second)  # was 2x it for some


def test_the_verdict_and_the_folders_do_not_depend_on_the_engine(dltool, runs_dir, tmp_path, monkeypatch):
    verdicts = {}
    for engine in ("population", "process"):
        monkeypatch.setenv("DLTOOL_RUNS_DIR", str(tmp_path / engine))
        result = dltool("compare-optimizers", "-q", "--seeds", "3", "--engine", engine)
        assert result.exit_code == 0, result.output
        (folder,) = [f for f in run_folders(tmp_path / engine) if "-compare-" in f.name]
        study = json.loads((folder / "study.json").read_text())
        assert {m["engine"] for m in study["members"]} == {engine} and len(study["members"]) == 36
        contenders = study["results"]["verdict"]["contenders"]
        verdicts[engine] = [(c["name"], c["rank"], c["label"]) for c in contenders]
        shown = dltool("show", study["members"][0]["run_id"])  # a member is an ordinary run
        assert shown.exit_code == 0 and "completed" in shown.output
    assert verdicts["population"] == verdicts["process"]


def test_a_diverging_member_ends_alone_and_the_others_are_unmoved(tmp_path):
    made = [c for c in configs("airfoil") if c.model.impl == "torch"][:3]
    blowing = made[0].model_copy(update={"optimizer": made[0].optimizer.model_copy(update={"lr": 100.0})})
    members = population.train_population([blowing, *made[1:]], tmp_path / "pop", None)
    assert [m.status for m in members] == ["diverged", "completed", "completed"]
    assert "loss became" in members[0].extra["error"]
    for member in members[1:]:
        alone = train(member.config, tmp_path / "alone", quiet=True, plots=False)
        assert [r[2] for r in losses(member.run.folder)] == pytest.approx([r[2] for r in losses(alone.run.folder)])


def test_an_interrupted_population_leaves_nothing_completed_and_resumes_to_the_same_results(
    dltool, runs_dir, tmp_path, monkeypatch
):
    args = ("sweep", CONFIGS / "linreg_airfoil_torch.yaml", "--grid", "optimizer.lr=0.01,0.03,0.1", "--jobs", "1", "-q")
    whole = dltool(*args, "--runs-dir", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    real_step = population.stacked_step

    def step(live, indices):
        if live.members[0].trainer.pos.step == 57:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C inside the population, mid-epoch
        return real_step(live, indices)

    monkeypatch.setattr(population, "stacked_step", step)
    cut = dltool(*args)
    assert cut.exit_code == 130, cut.output
    (sweep,) = [f for f in run_folders(runs_dir) if "-sweep-" in f.name]
    study = json.loads((sweep / "study.json").read_text())
    assert {m["status"] for m in study["members"]} == {"interrupted"}  # none claims to have finished
    monkeypatch.setattr(population, "stacked_step", real_step)
    resumed = dltool("sweep", "--resume", sweep.name, "--jobs", "1", "-q")
    assert resumed.exit_code == 0, resumed.output

    def finals(runs) -> dict[float, float]:
        (folder,) = [f for f in run_folders(runs) if "-sweep-" in f.name]
        rows = json.loads((folder / "study.json").read_text())["member_results"]
        return {row["lr"]: row["final_loss"] for row in rows}

    assert finals(runs_dir) == pytest.approx(finals(tmp_path / "whole"), rel=1e-5)


def test_a_population_too_big_for_memory_is_split(dltool, runs_dir, monkeypatch):
    config = configs("airfoil")[0]
    two = populations.member_bytes(config) * populations.MEMORY_SHARE * 2
    monkeypatch.setattr(populations, "available_memory", lambda: two)
    assert populations.population_size(config) == 2
    sizes = []
    real = populations.train_population
    monkeypatch.setattr(
        populations, "train_population", lambda made, *rest: sizes.append(len(made)) or real(made, *rest)
    )
    result = dltool("compare-optimizers", "-q", "--optimizers", "sgd,adam,adagrad", "--impl", "torch", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert sizes == [2, 1]


def test_a_member_that_cannot_be_built_fails_alone(dltool, runs_dir, monkeypatch):
    real_build = population.build_rank_setup

    def build_unless_lr_003(config, *args):
        if config.optimizer.options["lr"] == 0.03:
            raise RuntimeError("the data went away")  # a member that fails before it trains
        return real_build(config, *args)

    monkeypatch.setattr(population, "build_rank_setup", build_unless_lr_003)
    grid = ("--grid", "optimizer.lr=0.01,0.03,0.1")
    result = dltool("sweep", CONFIGS / "linreg_airfoil_torch.yaml", *grid, "--jobs", "1", "-q")
    assert result.exit_code == 1, result.output  # a member failed: exit 1, after the others ran
    (sweep,) = [f for f in run_folders(runs_dir) if "-sweep-" in f.name]
    members = {m["point"]["optimizer.lr"]: m for m in json.loads((sweep / "study.json").read_text())["members"]}
    assert members[0.03]["status"] == "failed" and members[0.03]["error"] == "RuntimeError: the data went away"
    assert members[0.01]["status"] == members[0.1]["status"] == "completed"
    assert {m["engine"] for m in members.values()} == {"population"}


def test_a_tuning_pool_trains_in_populations_and_each_trial_as_it_would_alone(dltool, runs_dir, tmp_path):
    """Trials are asked ten at a time (the quasi-random start, then TPE's batches) and pruned as alone."""
    space = ("--space", "optimizer.lr=loguniform(1e-4,1)", "--trials", "14", "--jobs", "1", "-q")
    result = dltool("tune", CONFIGS / "linreg_airfoil_torch.yaml", *space)
    assert result.exit_code == 0, result.output
    (tuning,) = [f for f in run_folders(runs_dir) if "-tune-" in f.name]
    members = json.loads((tuning / "study.json").read_text())["members"]
    assert len(members) == 14 and {m["engine"] for m in members} == {"population"}
    assert {m["status"] for m in members} <= {"completed", "pruned"}
    completed = next(m for m in members if m["status"] == "completed")
    folder = run_dir(runs_dir, completed["run_id"])
    alone = dltool("train", folder / "config.yaml", "-q", "--runs-dir", tmp_path / "alone")
    assert alone.exit_code == 0, alone.output
    (lone,) = run_folders(tmp_path / "alone")
    assert [r[2] for r in losses(folder)] == pytest.approx([r[2] for r in losses(lone)], rel=1e-5)
