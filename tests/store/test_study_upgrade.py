"""study.json files written before study kinds had plans of their own (a comparison's fields at the top,
its tables at the end) are still read: upgraded on reading, never rewritten unasked."""

from __future__ import annotations

import json

from dltool.store.study import StudyFolder
from dltool.study.kinds import kind_of

GROUPS = [
    {"group": "adam · torch", "winner": True, "final_loss": [0.24, 0.01], "final_acc": None, "tied_for_best": True},
    {"group": "sgd · torch", "winner": False, "final_loss": [0.31, 0.02], "final_acc": None, "tied_for_best": False},
]
MEMBER = {"group": "adam · torch", "variant": "adam", "note": "", "optimizer": "adam", "impl": "torch", "seed": 0}
MEMBER |= {"hyper": {"lr": 0.01}, "lr": 0.01, "batch_size": 10, "run_id": None, "status": "completed"}
OLD = {
    "id": "20250101-000000-compare-toy-abcd",
    "status": "completed",
    "problem": "toy",
    "title": "a toy",
    "source": "--problem toy",
    "objective": None,
    "started": "2025-01-01T00:00:00",
    "jobs": 1,
    "pid": 1,
    "seeds": 2,
    "lr_scan": True,
    "batch_scan": False,
    "given_target": 0.3,
    "plan": {"target": None, "tuning": []},
    "ended": "2025-01-01T00:01:00",
    "wall_time_s": 1.5,
    "target_loss": 0.3,
    "target_text": "target loss 0.3 (given)",
    "impl_gaps": {},
    "verdict": {"rule": "Welch", "winner": "adam · torch", "optimizers": []},
    "members": [MEMBER],
    "groups": GROUPS,
    "results": [{"group": "adam · torch", "run_id": None, "final_loss": 0.24}],
}


def test_a_comparison_of_the_old_layout_reads_as_the_new_one(tmp_path):
    folder = tmp_path / OLD["id"]
    folder.mkdir()
    (folder / "comparison.json").write_text(json.dumps(OLD))
    study = StudyFolder.open(folder)
    header, end = study.record.header, study.record.end
    assert study.noun == "comparison" and header.kind == "compare"
    spec = kind_of(study).spec(study)  # the compare kind's typed plan, from fields once at the top
    assert (spec.lr_scan, spec.batch_scan, spec.given_target, spec.objective) == (True, False, 0.3, None)
    assert end.against == "target loss 0.3 (given)" and end.member_results == OLD["results"]
    assert end.results["groups"] == GROUPS and end.results["verdict"]["winner"] == "adam · torch"
    assert (end.headline.best, end.headline.tied, end.headline.loss) == ("adam · torch", 0, 0.24)
    assert json.loads((folder / "comparison.json").read_text()) == OLD  # read, not rewritten


def test_a_study_of_an_unknown_kind_is_refused_with_the_kinds_this_dltool_knows(tmp_path):
    import pytest

    from dltool.errors import UsageError

    folder = tmp_path / "20250101-000000-later-x-abcd"
    folder.mkdir()
    newer = {key: value for key, value in OLD.items() if key not in ("lr_scan", "batch_scan", "given_target")}
    (folder / "study.json").write_text(json.dumps({**newer, "kind": "bandit", "objective": None}))
    study = StudyFolder.open(folder)
    with pytest.raises(UsageError, match="kind 'bandit'.*compare, profile, sweep, tune"):
        kind_of(study)
