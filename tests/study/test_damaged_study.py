"""A study whose files were edited or cut short (Faults): `show`, `runs`, `plot` and `--resume` never print a
traceback, never hide the study and never train a completed member again; the message names the study, the
file and the field. A property test (Hypothesis) writes random damage into a finished sweep's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CONFIGS, run_folders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dltool.cli import app

SWEEP = ("sweep", str(CONFIGS / "linreg_airfoil_scratch.yaml"), "--grid", "optimizer.lr=0.01,0.03",
         "--set", "train.epochs=1", "--jobs", "1", "-q")  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished sweep of two members: copied before each case, never changed itself."""
    runs = tmp_path_factory.mktemp("finished") / "runs"
    result = CliRunner().invoke(app, [*SWEEP, "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    return runs


def cli(runs: Path, *args: str):
    return CliRunner().invoke(app, [*args, "--runs-dir", str(runs)])


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and result.exit_code in (0, 1, 2), result.output


def study_of(runs: Path) -> Path:
    (folder,) = [path for path in run_folders(runs) if "-sweep-" in path.name]
    return folder


def completed_runs(runs: Path) -> set[str]:
    return {p.name for p in run_folders(runs) if (p / "summary.json").is_file() and "-sweep-" not in p.name}


def value_at(data, path: list):
    for key in path:
        data = data[key]
    return data


def json_paths(data, prefix=()) -> list[tuple]:
    """Every key path in a JSON value: where a damage may be written."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += json_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:3]):
            found += json_paths(value, (*prefix, index))
    return found


STUDY_FILES = ["study.json", "results.csv", "results.md", "report.html"]
ODD_VALUES = st.sampled_from([None, "", "x", -1, 0, 1.5e308, [], {}, [1, 2], {"a": 1}, True, "2026-13-45"])


@st.composite
def damage(draw) -> dict:
    kind = draw(st.sampled_from(["edit", "delete_key", "truncate", "garbage", "folder", "remove", "wrong_type"]))
    return {"kind": kind, "file": draw(st.sampled_from(STUDY_FILES)), "value": draw(ODD_VALUES),
            "pick": draw(st.integers(0, 10_000)), "garbage": draw(st.binary(max_size=64))}  # fmt: skip


def apply(study: Path, change: dict) -> None:
    path = study / change["file"]
    if change["kind"] in ("edit", "delete_key") and path.name == "study.json":
        data = json.loads(path.read_text())
        paths = json_paths(data)
        where = list(paths[change["pick"] % len(paths)])
        parent = value_at(data, where[:-1])
        if change["kind"] == "edit":
            parent[where[-1]] = change["value"]
        elif isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent.pop(where[-1])
        path.write_text(json.dumps(data))
    elif change["kind"] == "truncate" and path.is_file():
        text = path.read_bytes()
        path.write_bytes(text[: change["pick"] % max(len(text), 1)])
    elif change["kind"] == "garbage":
        path.write_bytes(change["garbage"])
    elif change["kind"] == "folder":
        path.unlink(missing_ok=True)
        path.mkdir()
    elif change["kind"] == "remove":
        path.unlink(missing_ok=True)
    elif change["kind"] == "wrong_type":
        path.write_text(json.dumps(change["value"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=damage())
def test_random_damage_never_shows_a_traceback_nor_trains_a_completed_member_again(finished, tmp_path_factory, change):
    runs = tmp_path_factory.mktemp("case") / "runs"
    shutil.copytree(finished, runs)
    study = study_of(runs)
    before = completed_runs(runs)
    apply(study, change)
    listed = cli(runs, "runs")
    no_traceback(listed)
    assert study.name in listed.output  # a damaged study is listed, never hidden
    no_traceback(cli(runs, "show", study.name))
    resumed = cli(runs, "sweep", "--resume", study.name, "--jobs", "1", "-q")
    no_traceback(resumed)
    assert completed_runs(runs) == before  # nothing trained again


def test_a_plan_without_its_grid_names_the_file_and_the_field(finished, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(finished, runs)
    study = study_of(runs)
    data = json.loads((study / "study.json").read_text())
    del data["plan"]["grid"]
    (study / "study.json").write_text(json.dumps(data))
    for args in (("show", study.name), ("sweep", "--resume", study.name), ("plot", study.name)):
        result = cli(runs, *args)
        no_traceback(result)
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and f"'{study.name}' is damaged: study.json: plan.grid: Field required" in said


def test_a_study_json_that_is_not_json_is_listed_as_damaged(finished, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(finished, runs)
    study = study_of(runs)
    (study / "study.json").write_text('{"id": "cut sh')
    listed = cli(runs, "runs")
    no_traceback(listed)
    row = next(line for line in listed.output.splitlines() if study.name[:15] in line)
    assert "damaged" in row
    shown = cli(runs, "show", study.name)
    assert shown.exit_code == 2 and "study.json: not a JSON object" in shown.output


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_the_same_sweep_command_rebuilds_a_lost_study_json_and_trains_nothing_again(finished, tmp_path, damage):
    runs = tmp_path / "runs"
    shutil.copytree(finished, runs)
    study = study_of(runs)
    before = json.loads((study / "study.json").read_text())
    if damage == "missing":
        (study / "study.json").unlink()
    else:
        (study / "study.json").write_text("{ not json")
    folders = run_folders(runs)
    result = cli(runs, *SWEEP[:-1])  # the command that made it, not quiet
    assert result.exit_code == 0, result.output
    assert f"rebuilt {study.name}'s study.json" in result.output
    assert run_folders(runs) == folders  # no member trained again, no new sweep
    after = json.loads((study / "study.json").read_text())
    assert [(m["run_id"], m["status"]) for m in after["members"]] == [
        (m["run_id"], m["status"]) for m in before["members"]
    ]
    assert after["results"] == before["results"]
    if damage == "garbage":  # the damaged file is kept beside, never deleted
        (kept,) = study.glob("study.json.damaged-*")
        assert kept.read_text() == "{ not json"


def test_a_pending_trial_that_optuna_holds_as_told_is_adopted_not_trained_again(tmp_path):
    runs = tmp_path / "runs"
    tune = ("tune", str(CONFIGS / "linreg_airfoil_scratch.yaml"), "--space", "optimizer.lr=loguniform(0.01,0.1)",
            "--trials", "3", "--set", "train.epochs=1", "--jobs", "1", "-q")  # fmt: skip
    assert cli(runs, *tune).exit_code == 0
    (study,) = [path for path in run_folders(runs) if "-tune-" in path.name]
    record = json.loads((study / "study.json").read_text())
    record["members"][1]["status"], record["status"] = "pending", "interrupted"  # died before writing it
    (study / "study.json").write_text(json.dumps(record))
    folders = run_folders(runs)
    result = cli(runs, "tune", "--resume", study.name, "-q")
    assert result.exit_code == 0, result.output
    assert run_folders(runs) == folders
    members = json.loads((study / "study.json").read_text())["members"]
    assert [m["status"] for m in members] == ["completed"] * 3
    assert members[1]["run_id"] == record["members"][1]["run_id"]


def test_a_study_whose_plan_names_itself_as_its_tuning_is_still_listed(finished, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(finished, runs)
    study = study_of(runs)
    record = json.loads((study / "study.json").read_text())
    record["plan"]["tuning"] = [{"study": study.name}]  # as an edited comparison's plan could say
    (study / "study.json").write_text(json.dumps(record))
    result = CliRunner().invoke(app, ["runs", "--runs-dir", str(runs)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert study.name in result.output
