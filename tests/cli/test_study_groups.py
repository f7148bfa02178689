"""Studies as groups in the browse commands: `runs` lists a comparison as one row (members hidden, or
under it with --members), `show` and `plot` take its id or a prefix, `latest` is the newest top-level
item, and commands that take runs only refuse a study. Oracle: the comparison's own study.json."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltool.cli import app
from dltool.store.study import MemberEntry, StudyFolder, StudyHeader
from tests.conftest import CONFIGS, run_dir, run_folders


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A runs folder holding one small comparison: sgd and adam, scratch, one epoch of airfoil."""
    runs = tmp_path_factory.mktemp("study") / "runs"
    args = ["compare-optimizers", "-q", "--optimizers", "sgd,adam", "--impl", "scratch", "--jobs", "1"]
    result = CliRunner().invoke(app, [*args, "--set", "train.epochs=1", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    return runs


@pytest.fixture
def study(finished, runs_dir) -> Path:
    """This test's copy of the comparison folder (its members beside it)."""
    shutil.copytree(finished, runs_dir)
    (folder,) = [path for path in run_folders(runs_dir) if (path / "study.json").exists()]
    return folder


def record_of(study: Path) -> dict:
    return json.loads((study / "study.json").read_text())


def member_ids(study: Path) -> set[str]:
    return {member["run_id"] for member in record_of(study)["members"]}


def listed(dltool, *args: str) -> list[dict]:
    result = dltool("runs", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_runs_lists_a_study_as_one_row_with_its_best(dltool, study):
    (row,) = listed(dltool)
    winner = next(group for group in record_of(study)["results"]["groups"] if group["best"])
    assert (row["id"], row["kind"], row["status"]) == (study.name, "compare", "completed")
    assert (row["members_done"], row["members_total"]) == (2, 2)
    assert row["optimizer"] == f"★ {winner['group']}" and row["model"] == "airfoil"
    assert row["eval_loss"] == winner["final_loss"][0]
    table = dltool("runs").output
    assert study.name in table and "2/2" in table
    assert not any(run_id in table for run_id in member_ids(study))


def test_members_are_listed_under_their_study(dltool, study):
    rows = listed(dltool, "--members")
    assert rows[0]["id"] == study.name and rows[0]["kind"] == "compare"
    assert {row["id"] for row in rows[1:]} == member_ids(study)
    assert {(row["kind"], row["study"]) for row in rows[1:]} == {("run", study.name)}
    table = dltool("runs", "--members").output
    assert all(f"└ {run_id}" in table for run_id in member_ids(study))
    as_csv = list(csv.DictReader(io.StringIO(dltool("runs", "--members", "--format", "csv").output)))
    assert [row["kind"] for row in as_csv] == ["compare", "run", "run"]


def test_filters_apply_to_studies(dltool, study):
    assert [row["id"] for row in listed(dltool, "--status", "completed")] == [study.name]
    assert [row["id"] for row in listed(dltool, "--optimizer", "adam")] == [study.name]  # a member is adam
    adam = listed(dltool, "--optimizer", "adam", "--members")
    assert [(row["optimizer"], row["optimizer_impl"]) for row in adam[1:]] == [("adam", "scratch")]
    assert dltool("runs", "--status", "interrupted").output.startswith("no runs with status 'interrupted'")


def test_a_member_records_its_study(study, runs_dir):
    for run_id in member_ids(study):
        assert json.loads((run_dir(runs_dir, run_id) / "status.json").read_text())["study"] == study.name


def test_members_made_before_the_study_field_are_found_from_comparison_json(dltool, study, runs_dir):
    for run_id in member_ids(study):
        path = run_dir(runs_dir, run_id) / "status.json"
        status = json.loads(path.read_text())
        del status["study"]
        path.write_text(json.dumps(status))
    assert [row["id"] for row in listed(dltool)] == [study.name]


def test_members_of_a_deleted_study_are_listed_as_runs(dltool, study):
    members = member_ids(study)
    for run_id in members:  # a study of an earlier version kept its members beside it
        shutil.move(study / "members" / run_id, study.parent / run_id)
    shutil.rmtree(study)
    rows = listed(dltool)
    assert {row["id"] for row in rows} == members and {row["kind"] for row in rows} == {"run"}


def test_show_a_study_by_prefix(dltool, study):
    result = dltool("show", study.name[:-2])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"comparison {study.name}  completed")
    assert "problem: airfoil" in out and "plan: 2 member runs: optimizers sgd, adam; impl scratch" in out
    assert "progress: 2/2 members ended" in out and "Rule: one seed" in out
    assert all(run_id in out for run_id in member_ids(study))
    for name in ("results.csv", "results.md", "plots/loss_epoch.png"):
        assert str(study / name) in out


def test_plot_a_study_redraws_its_pictures(dltool, study):
    for png in (study / "plots").iterdir():
        png.unlink()
    result = dltool("plot", study.name)
    assert result.exit_code == 0, result.output
    drawn = {path.name for path in (study / "plots").iterdir()}
    assert drawn == {"loss_epoch.png", "loss_time.png"}  # one impl: no scratch vs torch figure
    for name in drawn:
        assert (study / "plots" / name).stat().st_size > 5000 and str(study / "plots" / name) in result.output


@pytest.mark.parametrize("extra", [["--metric", "lr"], ["--logy"], ["--format", "svg"], ["latest"]])
def test_plot_a_study_with_options_or_runs_is_refused(dltool, study, extra):
    result = dltool("plot", study.name, *extra)
    assert result.exit_code == 2 and "is a comparison" in result.output and "Traceback" not in result.output


def test_latest_is_the_newest_study_or_standalone_run(dltool, study, runs_dir):
    assert dltool("show", "latest").output.startswith(f"comparison {study.name}")
    assert dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", "-q", "--set", "train.epochs=1").exit_code == 0
    (run,) = [path for path in run_folders(runs_dir) if path.name not in member_ids(study) | {study.name}]
    assert dltool("show", "latest").output.startswith(run.name)
    assert [row["id"] for row in listed(dltool)] == [run.name, study.name]


def test_ids_of_studies_and_runs_share_the_helpful_errors(dltool, study):
    ambiguous = dltool("show", study.name[:8])  # the date: the study and its members
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.output
    assert study.name in ambiguous.output and any(run_id in ambiguous.output for run_id in member_ids(study))
    typo = dltool("show", study.name[:-1] + ("0" if study.name[-1] != "0" else "1"))
    assert typo.exit_code == 2 and f"did you mean '{study.name}'" in typo.output


def test_export_of_a_study_writes_each_member_run(dltool, study):
    result = dltool("export", study.name)
    assert result.exit_code == 0, result.output
    for run_id in member_ids(study):
        assert (run_dir(study.parent, run_id) / "tensorboard").is_dir() and run_id in result.output


def test_a_study_with_a_damaged_record_is_named(dltool, study):
    (study / "study.json").write_text("{")
    result = dltool("show", study.name)
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and f"study '{study.name}' is damaged: study.json: not a JSON object" in said
    (row,) = listed(dltool)  # listed as damaged, never hidden; its members stay under it
    assert (row["id"], row["status"]) == (study.name, "damaged")


def test_a_running_study_shows_its_progress(dltool, runs_dir):
    """Started, nothing run yet (this process is its live pid): listed, shown, and nothing to plot."""
    header = StudyHeader("toy", "a toy", "--problem toy", "now", 1, os.getpid(), 1)
    members = [MemberEntry(f"sgd · {impl}", "sgd", "", "sgd", impl, 0, {"lr": 0.1}, 0.1, 1) for impl in ("a", "b")]
    comparison = StudyFolder.start(runs_dir, header, members)
    (row,) = listed(dltool)
    assert (row["status"], row["members_done"], row["members_total"], row["optimizer"]) == ("running", 0, 2, None)
    shown = dltool("show", comparison.id)
    assert shown.exit_code == 0 and "progress: 0/2 members ended; running" in shown.output
    plotted = dltool("plot", comparison.id)
    assert plotted.exit_code == 2 and "nothing to plot" in plotted.output


def test_a_comparison_made_before_study_kinds_is_still_a_study(dltool, study):
    """Comparisons made before sweeps and tuning wrote comparison.json: they are read as they are."""
    (study / "study.json").rename(study / "comparison.json")
    (row,) = listed(dltool)
    assert (row["id"], row["kind"], row["members_done"], row["members_total"]) == (study.name, "compare", 2, 2)
    shown = dltool("show", study.name)
    assert shown.exit_code == 0 and f"comparison {study.name}" in shown.output


def test_a_studys_members_live_inside_it_and_an_earlier_layout_still_reads(dltool, study):
    members = member_ids(study)
    assert {path.name for path in (study / "members").iterdir()} == members  # runs/<study>/members/<run>
    assert not any((study.parent / run_id).exists() for run_id in members)
    shown = dltool("show", sorted(members)[0])  # an id resolves wherever its run is
    assert shown.exit_code == 0, shown.output
    for run_id in members:  # the layout of earlier versions: members beside their study
        shutil.move(study / "members" / run_id, study.parent / run_id)
    rows = listed(dltool, "--members")
    assert {row["id"] for row in rows if row["kind"] == "run"} == members and all(
        row["study"] == study.name for row in rows if row["kind"] == "run"
    )
    again = dltool("show", study.name)
    assert again.exit_code == 0 and all(run_id in again.output for run_id in members)
