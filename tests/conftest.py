"""Shared fixtures: an isolated runs folder and an in-process `dltool` runner."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dltool.cli import app

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


@pytest.fixture(autouse=True, scope="session")
def private_live_runs(tmp_path_factory):
    """Under threads: auto a run shares the cores with the machine's other dltool runs: the suite's runs
    count only each other (subprocesses included), so their thread counts don't depend on the machine."""
    os.environ["DLTOOL_LIVE_RUNS"] = str(tmp_path_factory.mktemp("live-runs"))


@pytest.fixture(autouse=True, scope="session")
def private_data_cache(tmp_path_factory):
    """Decoded Fashion-MNIST is cached under DLTOOL_DATA: the suite's cache lives and dies with the suite,
    never in the user's home (the real files are still found in Debian's folder)."""
    os.environ["DLTOOL_DATA"] = str(tmp_path_factory.mktemp("data"))


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("DLTOOL_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def dltool(runs_dir):
    """Run `dltool ARGS...` in-process; returns the click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def run_folders(runs_dir: Path) -> list[Path]:
    """Every run and study folder, by name: the runs folder's own, and the member runs in each study's
    members/ folder."""
    if not runs_dir.exists():
        return []
    top = [p for p in runs_dir.iterdir() if p.is_dir()]
    nested = [m for p in top if (p / "members").is_dir() for m in (p / "members").iterdir() if m.is_dir()]
    return sorted(top + nested, key=lambda p: p.name)


def run_dir(runs_dir: Path, run_id: str) -> Path:
    """A run's folder by id: at the top of the runs folder, or inside its study's members/ folder."""
    found = [p for p in run_folders(runs_dir) if p.name == run_id]
    return found[0] if found else runs_dir / run_id


def only_run(runs_dir: Path) -> Path:
    folders = run_folders(runs_dir)
    assert len(folders) == 1, folders
    return folders[0]


def read_records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def ctrl_c_inside_first_member(command: list[str], runs_dir: Path, env: dict | None = None) -> str:
    """Start a study command in its own process group, press Ctrl-C (SIGINT to the group) a second after
    its first sgd member has written a record, and wait for it to exit 130; its stderr."""
    import signal
    import subprocess
    import time

    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
    deadline = time.monotonic() + 120
    first = ("*-sgd-*/metrics.jsonl", "*/members/*-sgd-*/metrics.jsonl")  # a study's members are inside it
    while time.monotonic() < deadline and not [path for pattern in first for path in runs_dir.glob(pattern)]:
        time.sleep(0.05)
    time.sleep(1.0)  # inside the first member's training
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    return err


def session_processes(session: int) -> list[int]:
    """The live (not zombie) processes of session `session`: a command started with start_new_session and
    every worker it forked, whose session it is."""
    from dltool.train.workers import alive

    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session and alive(int(entry.name)):
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, unmounted after the test; skipped where this process may not mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


# Tests of many processes or seconds of training each, in modules that are quick otherwise: marked slow here,
# in one place, so `pytest -m "not slow"` (the README's everyday subset) leaves them out; CI runs every test.
SLOW_TESTS = (
    "test_ctrl_c_",
    "test_random_damage_never_shows",
    "test_a_resumed_auto_run_trains_with_the_count",
    "test_a_full_disk_fails_the_run",
    "test_a_sweep_stopped_by_a_full_disk",
    "test_two_optimizers_never_share",
    "test_any_bytes_in_a_run_file",
    "test_a_killed_sweep_resumes_only",
    "test_a_tuned_comparison_shows_the_budget",
    "test_two_processes_",
    "test_the_verdict_and_the_folders_do_not_depend_on_the_engine",
    "test_a_copied_study_resumes",
    "test_sigkill",
    "test_eight_runs_started_together",
)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.name.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
