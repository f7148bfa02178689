"""The command line itself: quick help without torch, python -m, and the shipped configs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from dltool.config import load_config
from tests.conftest import CONFIGS, REPO


def test_help_is_quick_and_does_not_import_torch():
    code = "import sys, dltool.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dltool", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout and "runs" in result.stdout
    assert time.perf_counter() - start < 5  # generous: the target (< 1 s) belongs to benchmarks


def test_python_m_dltool_reports_bad_input_like_the_script(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dltool", "train", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and "Traceback" not in result.stderr


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_is_valid_and_listed_in_readme(path):
    config = load_config(path)
    assert config.name  # a label for the run id
    assert f"configs/{path.name}" in (REPO / "README.md").read_text()


def test_readme_main_job_is_the_offline_comparison_and_its_picture_exists():
    readme = (REPO / "README.md").read_text()
    assert "pip install torch==2.14.1 torchvision==0.29.1 -e . && dltool compare-optimizers\n" in readme
    assert "](docs/compare-optimizers.png)" in readme and (REPO / "docs/compare-optimizers.png").is_file()
