"""One study, four renderings: the terminal table, results.md, report.html and study.json are all made
from the results computed once at the study's end, so every number agrees between them."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from conftest import run_folders


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    """A comparison with two seeds (ranks, intervals, ties) and what its command printed."""
    from typer.testing import CliRunner

    from dltool.cli import app

    runs = tmp_path_factory.mktemp("runs")
    args = ["compare-optimizers", "-q", "--jobs", "1", "--seeds", "2", "--optimizers", "sgd,adam,adagrad"]
    args += ["--impl", "torch", "--runs-dir", str(runs)]
    result = CliRunner().invoke(app, args, catch_exceptions=False, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    (study,) = [path for path in run_folders(runs) if (path / "study.json").is_file()]
    return study, result.stdout


def expected_rows(study: Path) -> list[tuple[str, ...]]:
    """From study.json alone: each contender's label, rank, name and its numbers as the tables format them."""
    data = json.loads((study / "study.json").read_text())
    verdict, groups = data["results"]["verdict"], {g["group"]: g for g in data["results"]["groups"]}
    rows = []
    for standing in verdict["contenders"]:
        group = groups[standing["groups"][0]]
        mean, std = group["final_loss"]
        assert mean == pytest.approx(standing["mean"], rel=1e-12)  # the group's mean is the contender's
        label = "★ best" if standing["name"] == verdict["best"] else standing["label"]
        label += f" (~{standing['seeds_needed']} seeds)" if standing["seeds_needed"] else ""
        difference = "0"
        if standing["diff_low"] is not None:
            low, high = standing["diff_low"], standing["diff_high"]
            difference = f"{standing['difference']:+.3g} [{low:+.3g}, {high:+.3g}]"
        name = standing["name"].split()[0]
        rows.append((label, str(standing["rank"]), name, f"{mean:.6g} ± {std:.2g}", difference))
    return rows


def table_lines(text: str, cell_pattern: str) -> list[list[str]]:
    """The cells of every row of a table in `text`, split by `cell_pattern`."""
    return [[cell.strip() for cell in re.split(cell_pattern, line)] for line in text.splitlines()]


def found_in(rows: list[list[str]], expected: tuple[str, ...]) -> bool:
    """Some row holds each expected cell, in order (other cells between them)."""
    for row in rows:
        position = 0
        for cell in expected:
            try:
                position = row.index(cell, position) + 1
            except ValueError:
                break
        else:
            return True
    return False


def test_the_terminal_results_md_report_html_and_study_json_agree(rendered):
    study, terminal = rendered
    expected = expected_rows(study)
    assert len(expected) == 3 and [row[1] for row in expected] == ["1", "2", "3"]
    markdown = (study / "results.md").read_text()
    page = html.unescape(re.sub(r"<td[^>]*>", "|", (study / "report.html").read_text()).replace("</tr>", "\n"))
    surfaces = {
        "terminal": table_lines(terminal, r"[│┃]"),
        "results.md": table_lines(markdown, r"(?<!\\)\|"),
        "report.html": table_lines(re.sub(r"<[^>]+>", "", page), r"\|"),
    }
    for name, rows in surfaces.items():
        for row in expected:
            assert found_in(rows, row), f"{name} lacks the row {row}"
    with open(study / "results.csv") as handle:
        csv_losses = sorted(float(row["final_loss"]) for row in csv.DictReader(handle))
    member_losses = sorted(r["final_loss"] for r in json.loads((study / "study.json").read_text())["member_results"])
    assert csv_losses == pytest.approx(member_losses, rel=1e-12)


def test_show_renders_the_same_table_from_the_members_files(rendered, monkeypatch):
    """`dltool show` recomputes the results from the members' files: the same rows as at the end."""
    from typer.testing import CliRunner

    from dltool.cli import app

    study, _ = rendered
    shown = CliRunner().invoke(app, ["show", study.name, "--runs-dir", str(study.parent)], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    for row in expected_rows(study):
        assert found_in(table_lines(shown.stdout, r"[│┃]"), row), row
