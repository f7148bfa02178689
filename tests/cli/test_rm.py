"""`dltool rm` (Reading): a study goes with its member runs, a run alone; --dry-run removes nothing; a member
alone or anything running is refused and nothing at all is removed."""

from __future__ import annotations

import json
import os

from conftest import CONFIGS, run_folders

CONFIG = CONFIGS / "linreg_airfoil_scratch.yaml"


def made(dltool, runs_dir) -> tuple[str, list[str], str]:
    assert dltool("sweep", CONFIG, "--grid", "optimizer.lr=0.01,0.03", "--set", "train.epochs=1", "-q").exit_code == 0
    assert dltool("train", CONFIG, "--set", "train.epochs=1", "-q").exit_code == 0
    names = [path.name for path in run_folders(runs_dir)]
    (sweep,) = [name for name in names if "-sweep-" in name]
    members = [m["run_id"] for m in json.loads((runs_dir / sweep / "study.json").read_text())["members"]]
    (alone,) = [name for name in names if name != sweep and name not in members]
    return sweep, members, alone


def test_a_study_goes_with_its_members_and_a_dry_run_removes_nothing(dltool, runs_dir):
    sweep, members, alone = made(dltool, runs_dir)
    before = run_folders(runs_dir)
    dry = dltool("rm", sweep, "--dry-run")
    assert dry.exit_code == 0 and "3 folders would be removed" in dry.output
    assert run_folders(runs_dir) == before
    result = dltool("rm", sweep[:20])  # a unique prefix
    assert result.exit_code == 0, result.output
    assert [path.name for path in run_folders(runs_dir)] == [alone]
    assert dltool("rm", alone).exit_code == 0 and run_folders(runs_dir) == []


def test_a_member_alone_or_a_running_run_is_refused_and_nothing_is_removed(dltool, runs_dir):
    sweep, members, alone = made(dltool, runs_dir)
    before = run_folders(runs_dir)
    member = dltool("rm", alone, members[0])
    assert member.exit_code == 2 and f"is a member of study '{sweep}'" in member.output
    status = runs_dir / alone / "status.json"
    running = {**json.loads(status.read_text()), "status": "running", "pid": os.getpid()}
    running.pop("pid_start", None)
    status.write_text(json.dumps(running))  # as while it trains (this process is alive)
    refused = dltool("rm", sweep, alone)
    assert refused.exit_code == 2 and f"'{alone}' is running" in refused.output, refused.output
    assert run_folders(runs_dir) == before  # the sweep, named first, was not removed either
