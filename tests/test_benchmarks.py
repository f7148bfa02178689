"""The benchmark script on tiny sizes, so it cannot rot: every section runs both sides and reports.

The numbers of a quick run mean nothing and are not checked; the full run writes BENCHMARKS.md.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)


SECTIONS = ("training", "optimizer step", "command line", "overhead", "concurrency", "memory", "population")


def test_quick_benchmark_run_reports_every_section(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    committed = REPO / "BENCHMARKS.md"
    before = committed.read_text() if committed.exists() else None
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = out.read_text()
    assert "Quick run" in report and "python benchmarks/run.py --quick" in report
    for section in SECTIONS:
        assert f"## {section}" in report, section
        table = report.split(f"## {section}")[1].split("## ")[0]
        rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| what")]
        assert rows, f"section {section} has no rows"
        for row in rows:  # both sides measured: a number in the dltool cell of every row
            assert re.search(r"\d", row.split(" | ")[1]), row
    assert (committed.read_text() if committed.exists() else None) == before  # --out leaves the real report alone


def test_bad_section_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--only", "speed"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "unknown section 'speed'" in result.stderr
