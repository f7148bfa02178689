"""A tuning study's first trials cover its whole space with points of its own: quasi-random (scrambled
Sobol) per study, so two optimizers tuned with the same budget are not tried at the same multipliers of
their default learning rate unless --common-draws asks; a best value at the edge of its range is named."""

from __future__ import annotations

import json
import math

import pytest
from conftest import run_folders

from dltool.study.space import parse_space
from dltool.study.startup import edges, place, sampler_seed, startup_points
from dltool.study.tune_spaces import LITERATURE_SPACES, LR_ONLY, search_space


def test_the_start_covers_the_log_range_and_differs_between_studies():
    space = [parse_space("optimizer.lr=loguniform(0.001,1)"), parse_space("optimizer.momentum=uniform(0.5,0.99)")]
    points = startup_points(space, 8, seed=sampler_seed(0, "dltool-a", False))
    exponents = sorted(math.log10(p["optimizer.lr"]) for p in points)
    assert exponents[0] < -2.6 and exponents[-1] > -0.4  # both ends of three decades, from 8 points
    assert all(0.5 <= p["optimizer.momentum"] <= 0.99 for p in points)
    other = startup_points(space, 8, seed=sampler_seed(0, "dltool-b", False))
    assert {p["optimizer.lr"] for p in points}.isdisjoint(p["optimizer.lr"] for p in other)
    common = [startup_points(space, 8, seed=sampler_seed(0, name, True)) for name in ("dltool-a", "dltool-b")]
    assert common[0] == common[1]


def test_values_stay_in_their_range_and_choices_are_their_texts():
    lr, layers = parse_space("optimizer.lr=loguniform(1e-4,1e-2)"), parse_space("model.hidden=choice([256],[512])")
    assert place(lr, 0.0) == pytest.approx(1e-4) and place(lr, 1.0) == pytest.approx(1e-2) and place(lr, 1.0) <= 1e-2
    assert place(layers, 0.99) == layers.texts[1] and place(parse_space("train.epochs=int(1,3)"), 0.999) == 3


def test_a_best_value_at_the_edge_of_its_range_is_named():
    lr = parse_space("optimizer.lr=loguniform(1e-6,1e-5)")
    assert edges([lr], {"optimizer.lr": 9e-6}) == [
        "optimizer.lr=9e-06 is at the high edge of loguniform(1e-6, 1e-5): widen the space"
    ]
    assert edges([lr], {"optimizer.lr": 3e-6}) == [] and "low edge" in edges([lr], {"optimizer.lr": 1.1e-6})[0]


def multipliers(runs_dir, common: bool, dltool) -> dict[str, list[float]]:
    """Each optimizer's tried learning rates over its default, from its tuning study's members."""
    args = ["--optimizers", "sgd,adam", "--impl", "torch", "--tune", "6", "--tune-space", "lr", "--seeds", "1"]
    result = dltool("compare-optimizers", "-q", *args, *(["--common-draws"] if common else []))
    assert result.exit_code == 0, result.output
    found = {}
    for folder in run_folders(runs_dir):
        data = json.loads((folder / "study.json").read_text()) if (folder / "study.json").is_file() else {}
        if data.get("kind") == "tune":
            default = data["plan"]["base"]["optimizer"]["lr"]
            found[data["plan"]["base"]["optimizer"]["name"]] = sorted(m["lr"] / default for m in data["members"])
    return found


def test_two_optimizers_never_share_a_multiplier_unless_common_draws(dltool, runs_dir, tmp_path, monkeypatch):
    """With 6 trials every optimizer was tried at the same six multipliers of its default lr (×0.59 to ×4.3)."""
    own = multipliers(runs_dir, False, dltool)
    assert set(own) == {"sgd", "adam"} and all(len(m) == 6 for m in own.values())
    assert not any(math.isclose(a, b, rel_tol=1e-9) for a in own["sgd"] for b in own["adam"])
    assert all(min(m) < 1 / 5 and max(m) > 5 for m in own.values())  # the stated x1/30..x30 is explored
    monkeypatch.setenv("DLTOOL_RUNS_DIR", str(tmp_path / "common"))
    common = multipliers(tmp_path / "common", True, dltool)
    assert common["sgd"] == pytest.approx(common["adam"], rel=1e-9)


def test_the_default_spaces_are_the_literatures_and_lr_keeps_the_one_key_search(dltool, runs_dir):
    """Schmidt et al.'s manner: the lr over decades whatever the default, plus momentum-like keys."""
    assert [key.key for key in search_space("adam", {"lr": 0.01, "betas": [0.9, 0.999]}, ())] == [
        "optimizer.lr",
        "optimizer.betas",
    ]
    (lr,) = search_space("adam", {"lr": 0.01, "betas": [0.9, 0.999]}, (LR_ONLY,))
    assert lr.bounds == pytest.approx((0.01 / 30, 0.01 * 30))
    assert [k.key for k in search_space("newton", {"lr": 1.0}, ())] == ["optimizer.lr"]  # none in the literature
    result = dltool("compare-optimizers", "-q", "--optimizers", "momentum", "--tune", "2", "--seeds", "1")
    assert result.exit_code == 0, result.output
    (tuning,) = [json.loads((f / "study.json").read_text()) for f in run_folders(runs_dir) if "-tune-" in f.name]
    assert tuning["plan"]["space"] == {"optimizer.lr": "loguniform(1e-5, 1)", "optimizer.momentum": "uniform(0, 0.99)"}
    assert [parse_space(t).key for t in LITERATURE_SPACES["momentum"]] == list(tuning["plan"]["space"])
