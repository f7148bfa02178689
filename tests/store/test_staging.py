"""A run folder appears whole (Faults): its config, env.json and status.json are written in a hidden folder
that is then renamed, so a process killed while making it leaves no run without its status.json (the
fault-injection test found one); the hidden folder of a dead process goes with the next run made there,
and no listing shows such folders."""

from __future__ import annotations

import os
import subprocess

import pytest

from dltool.store.run import RunStore


def test_a_run_appears_only_once_its_first_files_are_written(tmp_path):
    store, seen = RunStore(tmp_path), []

    def fill(run):
        seen.append(store.folders())  # what any other process would list meanwhile
        run.set_status("running", step=0)

    run = store.create("airfoil", "sgd", fill)
    assert seen == [[]]
    assert run.folder.parent == tmp_path and (run.folder / "status.json").is_file()
    assert [r.id for r in store.list()] == [run.id]


def test_an_interrupted_making_leaves_nothing(tmp_path):
    def killed(run):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        RunStore(tmp_path).create("airfoil", "sgd", killed)
    assert list(tmp_path.iterdir()) == []


def test_a_dead_process_s_half_made_folder_goes_with_the_next_run(tmp_path):
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead, alive = tmp_path / f".creating-{finished.pid}-0000", tmp_path / f".creating-{os.getpid()}-0000"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "status.json").write_text('{"status": "running"}')
    store = RunStore(tmp_path)
    assert store.folders() == []  # never listed, even with a status.json inside
    run = store.create("airfoil", "sgd", lambda made: made.set_status("running", step=0))
    assert not dead.exists() and alive.exists()  # a live process's is its own business
    assert [r.id for r in store.list()] == [run.id]
