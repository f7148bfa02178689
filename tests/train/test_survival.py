"""Runs that survive (issue 6): SIGKILL then --resume ends bitwise where an uninterrupted run ends,
a double Ctrl-C, divergence, failures with error.log, eight runs at once into one folder, hostile
checkpoints, configs and run ids, and more bad input.

Only what needs a real process to die or to run beside others starts `python -m dltool`; the rest
runs in-process, so the whole file stays quick.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from dltool.cli import app
from dltool.data import fashion_mnist
from dltool.train import engine
from dltool.train import run as training
from tests.conftest import CONFIGS, only_run, read_records, run_folders, write
from tests.data.test_fashion_mnist import make_fake_fashion_mnist
from tests.train.test_resume import dltool_process

pytestmark = pytest.mark.slow  # minutes, or many processes: `-m "not slow"` leaves it out (CI runs all)

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"
WAIT = 180  # the most seconds any subprocess may take before the test gives up on it


def skip_plots(monkeypatch) -> None:
    """In-process runs draw no plots (they cost about a second a run and are tested elsewhere);
    the `python -m dltool` processes still draw theirs."""
    monkeypatch.setattr(training, "draw_plots", lambda run: None, raising=False)


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    skip_plots(monkeypatch)


def cli(*args):
    """`dltool ARGS...` in-process (for module fixtures; tests use conftest's `dltool`)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        skip_plots(monkeypatch)
        return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def sets(**pairs: object) -> list[str]:
    """--set options from keyword pairs: sets(optimizer__lr=0.1) -> ['--set', 'optimizer.lr=0.1']."""
    out: list[str] = []
    for key, value in pairs.items():
        out += ["--set", f"{key.replace('__', '.')}={value}"]
    return out


def tensor_digest(tensor: torch.Tensor) -> str:
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    header = f"{flat.dtype} {tuple(tensor.shape)}".encode()
    return hashlib.sha256(header + flat.view(torch.uint8).numpy().tobytes()).hexdigest()


def digests(obj, key: str = "") -> dict[str, str]:
    """sha256 of every tensor (and repr of every other leaf) in a nested state, by dotted path."""
    if isinstance(obj, torch.Tensor):
        return {key: tensor_digest(obj)}
    if isinstance(obj, dict):
        return {k: v for name, item in obj.items() for k, v in digests(item, f"{key}/{name}").items()}
    if isinstance(obj, (list, tuple)):
        return {k: v for i, item in enumerate(obj) for k, v in digests(item, f"{key}/{i}").items()}
    return {key: repr(obj)}


def final_state(folder: Path) -> dict[str, str]:
    """Digests of the final checkpoint: model, optimizer, schedule, data order, position (not time)."""
    state = torch.load(folder / "checkpoints" / "last.pt", weights_only=True)
    position = {k: v for k, v in state["position"].items() if k != "elapsed"}
    kept = {key: state[key] for key in ("model", "optimizer", "scheduler", "batches")}
    return digests({**kept, "position": position})


def records_but_time(folder: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "time"} for r in read_records(folder)]


def csv_rows(folder: Path) -> int:
    return len((folder / "metrics.csv").read_text().splitlines()) - 1  # minus the header


def status_of(folder: Path) -> dict:
    return json.loads((folder / "status.json").read_text())


def wait_for_checkpoint(process, runs: Path, count: int = 1) -> Path:
    """The run folder, once `count` checkpoints were seen on disk (fails if the process ends first)."""
    deadline = time.monotonic() + WAIT
    seen: set[tuple] = set()
    while time.monotonic() < deadline:
        folders = run_folders(runs)
        try:
            stat = os.stat(folders[0] / "checkpoints" / "last.pt") if folders else None
        except FileNotFoundError:
            stat = None
        if stat is not None:
            seen.add((stat.st_ino, stat.st_mtime_ns, stat.st_size))  # each save replaces the file
            if len(seen) >= count:
                return folders[0]
        if process.poll() is not None:
            pytest.fail(
                f"dltool ended (rc {process.returncode}) before {count} checkpoints were seen: {process.stderr.read()}"
            )
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"{count} checkpoints did not appear in time")


@pytest.fixture(scope="module")
def fake_fashion(tmp_path_factory) -> Path:
    """Generated Fashion-MNIST IDX files: 1200 train and 100 test images (seconds, not minutes)."""
    root = tmp_path_factory.mktemp("fashion")
    make_fake_fashion_mnist(root, n_train=1200, n_test=100, compress=False)
    return root


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted in-process runs, each trained once per module: (records, final state, train seconds)."""
    cache: dict = {}

    def get(config: Path, args: list[str]):
        key = (str(config), tuple(args))
        if key not in cache:
            runs = tmp_path_factory.mktemp("reference")
            result = cli("train", config, *args, "--runs-dir", runs, "-q")
            assert result.exit_code == 0, result.output
            folder = only_run(runs)
            summary = json.loads((folder / "summary.json").read_text())
            cache[key] = (records_but_time(folder), final_state(folder), summary["train_time_s"])
        return cache[key]

    return get


# ------------------------------------------------------------------ SIGKILL, then --resume

# device cpu: bitwise equality between processes is a CPU promise (cuDNN convs may pick other kernels).
SYNTHETIC = sets(device="cpu", data__num_examples=20000, train__epochs=2, train__eval_every_examples=5000)
KILL_CASES = {
    # config, options, checkpoint_every_steps
    "scratch-momentum-piecewise": (
        CONFIGS / "linreg_synthetic_scratch.yaml",
        SYNTHETIC
        + sets(
            optimizer__name="momentum",
            optimizer__lr=0.01,
            schedule__name="piecewise",
            schedule__unit="step",
            schedule__milestones="[1000,3000]",
            schedule__factor=0.5,
        ),
        150,
    ),
    "torch-rmsprop-polynomial": (
        CONFIGS / "linreg_synthetic_torch.yaml",
        SYNTHETIC
        + sets(
            optimizer__name="rmsprop",
            optimizer__lr=0.01,
            schedule__name="polynomial",
            schedule__unit="step",
            schedule__beta=0.01,
        ),
        150,
    ),
    "lenet-batchnorm-adam-cosine": (
        CONFIGS / "lenet_bn_torch.yaml",
        sets(
            device="cpu",
            data__root="{fashion}",
            data__batch_size=40,
            train__epochs=2,
            train__eval_every_examples=400,
            schedule__name="cosine",
            schedule__unit="step",
        ),
        5,
    ),
}


def kill_case(name: str, fashion: Path) -> tuple[Path, list[str], int]:
    config, args, every = KILL_CASES[name]
    return config, [a.replace("{fashion}", str(fashion)) for a in args], every


@pytest.mark.parametrize("case", KILL_CASES)
def test_sigkilled_run_resumes_to_the_bitwise_same_end(case, tmp_path, fake_fashion, reference, dltool):
    config, args, every = kill_case(case, fake_fashion)
    full_records, full_state, train_s = reference(config, args)

    total_steps = full_records[-1]["step"]
    count = random.randint(1, max(1, total_steps // every // 2))  # a random point after the first checkpoint
    extra_s = random.uniform(0.0, 0.5) * train_s * every / total_steps  # ... and within a checkpoint interval
    cut = tmp_path / "cut"
    process = dltool_process(cut, "train", config, *args, *sets(train__checkpoint_every_steps=every), "-q")
    try:
        folder = wait_for_checkpoint(process, cut, count)
        time.sleep(extra_s)
        process.kill()
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, f"the run ended before the kill (after {count} checkpoints): {stderr}"

    status = status_of(folder)
    assert status["status"] == "running" and status["pid"] == process.pid
    killed_at = torch.load(folder / "checkpoints" / "last.pt", weights_only=True)["position"]
    assert killed_at["step"] >= every  # a mid-epoch checkpoint (every `every` steps) or an epoch's end
    assert killed_at["step"] % every == 0 or killed_at["batch_in_epoch"] == 0

    # Every line of metrics.jsonl but the last is whole; make the last one partial, as a kill mid-write does.
    text = (folder / "metrics.jsonl").read_text()
    *whole, last = text.split("\n")
    assert [json.loads(line) for line in whole]
    if last == "":
        with open(folder / "metrics.jsonl", "a") as handle:
            handle.write('{"step": 99999, "epoch": 1.5, "exam')
    table = dltool("runs", "--runs-dir", cut)
    assert table.exit_code == 0 and folder.name in table.output and "crashed" in table.output
    assert folder.name in dltool("runs", "--status", "crashed", "--runs-dir", cut).output
    shown = dltool("show", folder.name, "--runs-dir", cut)
    assert shown.exit_code == 0 and "crashed" in shown.output and "Traceback" not in shown.output

    resumed = dltool("train", "--resume", folder.name, "--runs-dir", cut, "-q")
    assert resumed.exit_code == 0, resumed.output
    status = status_of(folder)
    assert status["status"] == "completed" and "error" not in status
    assert records_but_time(folder) == full_records, f"killed at {killed_at} after {count} checkpoints"
    assert final_state(folder) == full_state, f"killed at {killed_at} after {count} checkpoints"
    assert csv_rows(folder) == len(full_records)
    assert len(run_folders(cut)) == 1


# ------------------------------------------------------------------ Ctrl-C twice


def test_two_quick_sigints_end_interrupted_with_130_and_the_run_resumes_exactly(
    tmp_path, fake_fashion, reference, dltool
):
    config, args, every = kill_case("scratch-momentum-piecewise", fake_fashion)
    full_records, full_state, _ = reference(config, args)
    process = dltool_process(tmp_path, "train", config, *args, *sets(train__checkpoint_every_steps=every), "-q")
    try:
        folder = wait_for_checkpoint(process, tmp_path)
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)  # a no-op if the first already ended it: both paths must end alike
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    status = status_of(folder)
    assert status["status"] == "interrupted", status
    assert json.loads((folder / "summary.json").read_text())["status"] == "interrupted"

    resumed = dltool("train", "--resume", folder.name, "--runs-dir", tmp_path, "-q")
    assert resumed.exit_code == 0, resumed.output
    assert records_but_time(folder) == full_records
    assert final_state(folder) == full_state


def test_a_second_sigint_while_the_outcome_is_recorded_still_ends_interrupted(dltool, runs_dir, monkeypatch):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("needs Python's own SIGINT handler in the test process")
    real_step, real_summarize = engine.Trainer.train_step, training.summarize

    def step(self, index):
        if self.pos.step == 20:
            os.kill(os.getpid(), signal.SIGINT)  # first Ctrl-C: StopFlag makes it a request to stop
        return real_step(self, index)

    def summarize(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # second Ctrl-C, once fit() is done
        return real_summarize(*args, **kwargs)

    monkeypatch.setattr(engine.Trainer, "train_step", step)
    monkeypatch.setattr(training, "summarize", summarize)
    result = dltool("train", AIRFOIL, "-q")
    assert result.exit_code == 130
    assert status_of(only_run(runs_dir))["status"] == "interrupted"


# ------------------------------------------------------------------ divergence


@pytest.mark.parametrize("lr", ["100", "3"])
def test_divergence_keeps_the_metrics_before_it_and_is_shown(dltool, runs_dir, lr):
    result = dltool("train", AIRFOIL, "-q", "--set", f"optimizer.lr={lr}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    folder = only_run(runs_dir)
    status = status_of(folder)
    step = status["diverged_at_step"]
    assert status["status"] == "diverged" and 1 <= step < 300
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["diverged_at_step"] == step
    records = read_records(folder)  # the full-set loss every 100 examples (10 steps) up to the divergence
    assert [r["step"] for r in records] == list(range(0, step, 10))
    assert math.isfinite(records[0]["loss"]) and csv_rows(folder) == len(records)

    shown = dltool("show", folder.name)
    assert shown.exit_code == 0 and "diverged" in shown.output and f"step {step}" in shown.output
    assert folder.name in dltool("runs", "--status", "diverged").output
    refused = dltool("train", "--resume", folder.name)
    assert refused.exit_code == 2 and "is diverged" in refused.output
    assert status_of(folder)["status"] == "diverged"


# ------------------------------------------------------------------ failures


def test_a_step_that_raises_fails_the_run_into_error_log(dltool, runs_dir, monkeypatch):
    real_step = engine.Trainer.train_step

    def step(self, index):
        if self.pos.step == 1:
            raise ValueError("a failing second step")  # a bug in a layer, say: the same step fails again on resume
        return real_step(self, index)

    monkeypatch.setattr(engine.Trainer, "train_step", step)
    args = sets(train__epochs=2, train__checkpoint_every_steps=1)
    result = dltool("train", CONFIGS / "linreg_airfoil_scratch.yaml", *args, "-q")
    assert result.exit_code == 1
    assert "a failing second step" in result.output and "error.log" in result.output
    assert "Traceback" not in result.output
    folder = only_run(runs_dir)
    log = (folder / "error.log").read_text()
    assert "Traceback (most recent call last)" in log and "ValueError: a failing second step" in log
    status = status_of(folder)
    assert status["status"] == "failed" and status["step"] == 1
    assert "a failing second step" in status["error"] and str(folder / "error.log") in status["error"]
    assert json.loads((folder / "summary.json").read_text())["status"] == "failed"

    (folder / "error.log").unlink()
    again = dltool("train", "--resume", folder.name, "-q")  # accepted: it reruns the failing step
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert status_of(folder)["status"] == "failed" and (folder / "error.log").exists()
    assert run_folders(runs_dir) == [folder]


def test_a_failed_run_resumes_from_its_checkpoint_to_the_same_end(dltool, runs_dir, reference, monkeypatch):
    args = sets(
        device="cpu",
        train__epochs=3,
        optimizer__name="adam",
        optimizer__lr=0.01,
        schedule__name="exponential",
        schedule__lam=0.5,
    )
    full_records, full_state, _ = reference(AIRFOIL, args)
    real_step = engine.Trainer.train_step

    def flaky(self, index):
        if self.pos.step == 250:
            raise RuntimeError("injected failure: the disk caught fire")
        return real_step(self, index)

    monkeypatch.setattr(engine.Trainer, "train_step", flaky)
    result = dltool("train", AIRFOIL, *args, *sets(train__checkpoint_every_steps=40), "-q")
    monkeypatch.setattr(engine.Trainer, "train_step", real_step)
    assert result.exit_code == 1 and "injected failure" in result.output and "Traceback" not in result.output
    folder = only_run(runs_dir)
    assert f"continue it with:\n    dltool train --resume {folder.name}" in result.output
    assert "RuntimeError: injected failure" in (folder / "error.log").read_text()
    assert status_of(folder)["status"] == "failed" and status_of(folder)["step"] == 250
    assert max(r["step"] for r in read_records(folder)) == 250  # the metrics so far are kept

    resumed = dltool("train", "--resume", folder.name, "-q")
    assert resumed.exit_code == 0, resumed.output
    status = status_of(folder)
    assert status["status"] == "completed" and "error" not in status
    assert "error" not in json.loads((folder / "summary.json").read_text())
    assert records_but_time(folder) == full_records
    assert final_state(folder) == full_state


def test_a_process_that_ended_but_is_not_yet_reaped_is_not_alive():
    """A killed rank 0 is a zombie until torchrun reaps it; its run must not look alive meanwhile."""
    from dltool.store.run import is_zombie, pid_alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.time() + 30
        while not is_zombie(child.pid) and time.time() < deadline:
            time.sleep(0.02)
        assert is_zombie(child.pid) and not pid_alive(child.pid)
    finally:
        child.wait()
    assert pid_alive(os.getpid()) and not is_zombie(os.getpid())


# ------------------------------------------------------------------ concurrency


def test_eight_runs_started_together_get_eight_intact_folders(tmp_path):
    runs = tmp_path / "runs"
    processes = [dltool_process(runs, "train", str(AIRFOIL), "-q") for _ in range(8)]
    try:
        outputs = [process.communicate(timeout=WAIT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    folders = run_folders(runs)
    assert len(folders) == 8 and len({f.name for f in folders}) == 8
    assert {status_of(f)["pid"] for f in folders} == {p.pid for p in processes}
    first = records_but_time(folders[0])
    assert first and first[-1]["epoch"] == 2.0
    for folder in folders:
        assert status_of(folder)["status"] == "completed"
        assert json.loads((folder / "summary.json").read_text())["status"] == "completed"
        for name in ("config.yaml", "env.json", "metrics.csv", "checkpoints/last.pt"):
            assert (folder / name).is_file(), name
        assert records_but_time(folder) == first  # same config and seed: the same numbers
        assert csv_rows(folder) == len(first)
        assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ hostile files and ids


class Shell:
    """Unpickling this runs a shell command: what a malicious checkpoint would carry."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def write_torch(path: Path, obj) -> None:
    torch.save(obj, path)


def write_pickle(path: Path, obj) -> None:
    path.write_bytes(pickle.dumps(obj))


def other_model(path: Path, real: bytes) -> None:
    path.write_bytes(real)
    state = torch.load(path, weights_only=True)
    state["model"] = {"w": torch.zeros(7, 7)}
    torch.save(state, path)


BAD_CHECKPOINTS = {
    "truncated": lambda path, real, cmd: path.write_bytes(real[: len(real) // 2]),
    "empty": lambda path, real, cmd: path.write_bytes(b""),
    "random bytes": lambda path, real, cmd: path.write_bytes(random.Random(0).randbytes(4096)),
    "torch.save of os.system": lambda path, real, cmd: write_torch(path, {"model": Shell(cmd)}),
    "plain pickle of os.system": lambda path, real, cmd: write_pickle(path, Shell(cmd)),
    "an os class instance": lambda path, real, cmd: write_torch(path, os.stat_result(tuple(range(10)))),
    "tensors but no checkpoint": lambda path, real, cmd: write_torch(path, {"weights": torch.zeros(3)}),
    "another model's weights": lambda path, real, cmd: other_model(path, real),
}


@pytest.fixture(scope="module")
def template_run(tmp_path_factory) -> Path:
    """A short airfoil run with a checkpoint, to copy and mark interrupted."""
    runs = tmp_path_factory.mktemp("template")
    assert cli("train", AIRFOIL, "--runs-dir", runs, "-q", "--set", "train.epochs=1").exit_code == 0
    return only_run(runs)


def interrupted_copy(template: Path, runs: Path) -> Path:
    folder = runs / template.name
    shutil.copytree(template, folder)
    status = status_of(folder)
    write(folder / "status.json", json.dumps({**status, "status": "interrupted", "error": "stopped by SIGINT"}))
    return folder


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("make", BAD_CHECKPOINTS.values(), ids=BAD_CHECKPOINTS.keys())
def test_resume_from_a_bad_checkpoint_is_refused_and_runs_nothing(dltool, runs_dir, tmp_path, template_run, make):
    folder = interrupted_copy(template_run, runs_dir)
    checkpoint = folder / "checkpoints" / "last.pt"
    marker = tmp_path / "executed"
    make(checkpoint, checkpoint.read_bytes(), f"touch {marker}")
    metrics_before = (folder / "metrics.jsonl").read_bytes()

    result = dltool("train", "--resume", folder.name)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "not a readable dltool checkpoint" in result.output
    assert "Traceback" not in result.output
    assert not marker.exists()
    assert status_of(folder)["status"] == "interrupted"
    assert (folder / "metrics.jsonl").read_bytes() == metrics_before
    assert run_folders(runs_dir) == [folder]


def test_resume_of_a_run_whose_process_is_alive_is_refused(dltool, runs_dir, template_run):
    folder = interrupted_copy(template_run, runs_dir)
    write(folder / "status.json", json.dumps({"status": "running", "pid": os.getpid(), "step": 10}))
    result = dltool("train", "--resume", folder.name)
    assert result.exit_code == 2 and "is running" in result.output and "Traceback" not in result.output
    assert status_of(folder)["status"] == "running"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_resume_with_device_is_refused_or_honoured(dltool, runs_dir, template_run):
    folder = interrupted_copy(template_run, runs_dir)
    result = dltool("train", "--resume", folder.name, "--device", "cuda", "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert status_of(folder)["status"] == "interrupted"


@pytest.mark.parametrize("run_id", ["a/b", "..", "x/..", "/etc", "./latest", "../outside", "..\\outside", "."])
@pytest.mark.parametrize("command", ["show", "resume"])
def test_run_ids_with_path_parts_are_refused(dltool, runs_dir, tmp_path, template_run, command, run_id):
    interrupted_copy(template_run, tmp_path / "outside")  # something real for '..' to reach
    interrupted_copy(template_run, runs_dir)
    args = ["show", run_id] if command == "show" else ["train", "--resume", run_id]
    result = dltool(*args)
    assert result.exit_code == 2, result.output
    assert "not a run id" in result.output and "Traceback" not in result.output
    assert status_of(only_run(runs_dir))["status"] == "interrupted"


PYTHON_TAGS = {
    "apply in a file": ("seed: !!python/object/apply:os.system ['touch {marker}']\n", []),
    "new in a file": ("name: !!python/object/new:os.system ['touch {marker}']\n", []),
    "name in a file": ("optimizer: {name: !!python/name:os.system }\n", []),
    "apply in a nested key": (
        "model: {name: linreg, hidden: !!python/object/apply:os.system ['touch {marker}']}\n",
        [],
    ),
    "apply via --set": ("seed: 0\n", ["--set", "seed=!!python/object/apply:os.system ['touch {marker}']"]),
}


@pytest.mark.parametrize("text, extra", PYTHON_TAGS.values(), ids=PYTHON_TAGS.keys())
def test_python_yaml_tags_are_rejected_before_anything_runs(dltool, runs_dir, tmp_path, text, extra):
    marker = tmp_path / "executed"
    config = write(tmp_path / "c.yaml", text.replace("{marker}", str(marker)))
    result = dltool("train", config, *[a.replace("{marker}", str(marker)) for a in extra])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert not marker.exists()
    assert run_folders(runs_dir) == []


# ------------------------------------------------------------------ more bad input

# (files to write, arguments after `dltool train`, fragments the message must contain)
MORE_BAD_INPUT = {
    "resume with a CONFIG": ({}, [AIRFOIL, "--resume", "latest"], ["--resume", "no CONFIG"]),
    "resume with --set": ({}, ["--resume", "latest", "--set", "seed=1"], ["--resume", "--set"]),
    "checkpoint every 0 steps": (
        {},
        [AIRFOIL, "--set", "train.checkpoint_every_steps=0"],
        ["train.checkpoint_every_steps", "greater than 0"],
    ),
    "checkpoint every -5 steps": (
        {},
        [AIRFOIL, "--set", "train.checkpoint_every_steps=-5"],
        ["train.checkpoint_every_steps"],
    ),
    "checkpoint every 1.5 steps": (
        {},
        [AIRFOIL, "--set", "train.checkpoint_every_steps=1.5"],
        ["train.checkpoint_every_steps", "valid integer"],
    ),
    "a string scalar config": (
        {"c.yaml": "configs/mlp_torch.yaml\n"},
        ["{tmp}/c.yaml"],
        ["c.yaml", "expected a YAML mapping", "str"],
    ),
    "a number scalar config": ({"c.yaml": "42\n"}, ["{tmp}/c.yaml"], ["c.yaml", "expected a YAML mapping", "int"]),
    "lr 1e400 (inf) in a file": (
        {"c.yaml": "data: {name: airfoil}\noptimizer: {name: sgd, lr: 1e400}\n"},
        ["{tmp}/c.yaml"],
        ["c.yaml", "optimizer.lr", "finite"],
    ),
    "lr 1e400 via --set": ({}, [AIRFOIL, "--set", "optimizer.lr=1e400"], ["optimizer.lr=1e400", "finite"]),
    "lr -inf": ({}, [AIRFOIL, "--set", "optimizer.lr=-.inf"], ["optimizer.lr"]),
    "epochs true": ({}, [AIRFOIL, "--set", "train.epochs=true"], ["train.epochs", "valid integer"]),
    "epochs 2.5": ({}, [AIRFOIL, "--set", "train.epochs=2.5"], ["train.epochs", "valid integer"]),
    "seed -1": ({}, [AIRFOIL, "--set", "seed=-1"], ["seed", "greater than or equal to 0"]),
    "eval every 0 examples": ({}, [AIRFOIL, "--set", "train.eval_every_examples=0"], ["train.eval_every_examples"]),
    "schedule unit typo": (
        {},
        [AIRFOIL, "--set", "schedule.name=cosine", "--set", "schedule.unit=steps"],
        ["schedule.unit", "did you mean 'step'"],
    ),
    "weight decay negative": ({}, [AIRFOIL, "--set", "optimizer.weight_decay=-0.1"], ["optimizer.weight_decay"]),
    "synthetic with 0 examples": (
        {},
        [CONFIGS / "linreg_synthetic_scratch.yaml", "--set", "data.num_examples=0"],
        ["data.num_examples"],
    ),
    "synthetic with -5 examples": (
        {},
        [CONFIGS / "linreg_synthetic_scratch.yaml", "--set", "data.num_examples=-5"],
        ["data.num_examples"],
    ),
    "synthetic with negative noise": (
        {},
        [CONFIGS / "linreg_synthetic_scratch.yaml", "--set", "data.noise_std=-1"],
        ["data.noise_std"],
    ),
    "duplicate section": (
        {"c.yaml": "data: {name: airfoil}\noptimizer: {name: sgd, lr: 0.05}\noptimizer: {name: adam}\n"},
        ["{tmp}/c.yaml"],
        ["c.yaml", "optimizer", "duplicate"],
    ),
    "duplicate key in a section": (
        {"c.yaml": "data: {name: airfoil}\noptimizer: {name: sgd, lr: 0.05, lr: 0.5}\n"},
        ["{tmp}/c.yaml"],
        ["c.yaml", "lr", "duplicate"],
    ),
}


@pytest.mark.parametrize("files, args, fragments", MORE_BAD_INPUT.values(), ids=MORE_BAD_INPUT.keys())
def test_more_bad_input_exits_2_with_one_clear_message(dltool, runs_dir, tmp_path, files, args, fragments):
    for name, content in files.items():
        write(tmp_path / name, content)
    result = dltool("train", *[str(a).replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output
    assert run_folders(runs_dir) == []


def test_data_root_that_is_a_file_is_refused(dltool, runs_dir, tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    make_fake_fashion_mnist(debian)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", debian)  # a system copy is there to fall back on
    not_a_folder = write(tmp_path / "fashion.tar", "not a folder")
    result = dltool("train", CONFIGS / "softmax_torch.yaml", "-q", *sets(data__root=not_a_folder, train__epochs=1))
    assert result.exit_code == 2 and str(not_a_folder) in result.output
    assert run_folders(runs_dir) == []
