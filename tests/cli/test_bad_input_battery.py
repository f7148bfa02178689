"""The bad-input promise, held against a battery of hostile inputs of five kinds: damaged run folders,
unbounded inputs, bad data, process identity and messages. Whatever the input, a command ends with
exit 0 (it did what it could and said so) or 2 (one clear message), never with a Python exception;
a command that refuses trains nothing and leaves no run folder, and no reader changes a run's files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dltool.cli import app
from tests.conftest import CONFIGS, run_folders
from tests.data.test_fashion_mnist import make_fake_fashion_mnist, write_idx

AIRFOIL = CONFIGS / "linreg_airfoil_scratch.yaml"
RUNNER = CliRunner()


def invoke(*args) -> tuple[int, str]:
    """dltool ARGS in this process; an exception escaping the command fails the test (no traceback)."""
    result = RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def assert_clean(code: int, output: str, allowed: tuple[int, ...]) -> None:
    assert code in allowed, output
    assert "Traceback" not in output, output
    if code == 2 and not output.startswith("Usage:"):
        assert output.startswith("error: "), output
        assert len(output) < 2000, output  # a message, not a dump of the bad value


# ---------------------------------------------------------------- 1. damaged run folders

DAMAGE = {
    "status list": ("status.json", b"[1, 2, 3]"),
    "status string": ("status.json", b'"completed"'),
    "status null": ("status.json", b"null"),
    "status empty object": ("status.json", b"{}"),
    "status pid text": ("status.json", b'{"status": "running", "pid": "abc"}'),
    "status number": ("status.json", b'{"status": 5}'),
    "status cut": ("status.json", b'{"stat'),
    "status not utf-8": ("status.json", b"\xff\xfe\x00{"),
    "status empty": ("status.json", b""),
    "status huge step": ("status.json", b'{"status": "completed", "step": 1e400}'),
    "metrics list lines": ("metrics.jsonl", b"[1]\n[2]\n"),
    "metrics string line": ("metrics.jsonl", b'"x"\n'),
    "metrics no step": ("metrics.jsonl", b'{"split": "full", "loss": 1.0}\n'),
    "metrics step text": ("metrics.jsonl", b'{"step": "a", "split": "full", "loss": 1.0}\n'),
    "metrics not utf-8": ("metrics.jsonl", b"\xff\xfe\xfd\n"),
    "metrics empty": ("metrics.jsonl", b""),
    "metrics nan literal": ("metrics.jsonl", b'{"step": 1, "epoch": 1, "split": "full", "loss": NaN}\n'),
    "summary list": ("summary.json", b"[]"),
    "summary final number": ("summary.json", b'{"final": 5}'),
    "summary garbage": ("summary.json", b"\x00\x01\x02"),
    "config list": ("config.yaml", b"[1, 2]"),
    "config python tag": ("config.yaml", b"seed: !!python/object/apply:os.system ['echo hi']\n"),
    "config not utf-8": ("config.yaml", b"\xff\xfe"),
    "config unknown model": ("config.yaml", b"model: {name: nope}\n"),
    "config empty": ("config.yaml", b""),
    "env garbage": ("env.json", b"{{{"),
}
READERS = {
    "runs": lambda run_id, out: ("runs",),
    "show": lambda run_id, out: ("show", run_id),
    "plot": lambda run_id, out: ("plot", run_id, "--metric", "loss", "--out", out),
    "resume": lambda run_id, out: ("train", "--resume", run_id),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("good") / "runs"
    code, output = invoke("train", AIRFOIL, "-q", "--set", "train.epochs=1", "--runs-dir", runs)
    assert code == 0, output
    return run_folders(runs)[0]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of a run but its pictures (plot may draw), by content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "plots" not in p.relative_to(folder).parts
    }


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_run_folder(good_run, tmp_path, damage, reader):
    runs = tmp_path / "runs"
    folder = runs / good_run.name
    shutil.copytree(good_run, folder)
    shutil.copytree(good_run, runs / (good_run.name[:-4] + "ffff"))  # an intact neighbour
    name, content = DAMAGE[damage]
    (folder / name).write_bytes(content)
    before = fingerprint(folder)
    code, output = invoke(*READERS[reader](good_run.name, tmp_path / "out.png"), "--runs-dir", runs)
    assert_clean(code, output, (0, 2) if reader != "runs" else (0,))
    if reader == "runs":
        assert good_run.name[:-4] + "ffff" in output  # one damaged run never hides the others
    if reader == "resume" and name in ("status.json", "config.yaml"):
        assert code == 2
    assert fingerprint(folder) == before or reader == "resume"


# ---------------------------------------------------------------- 2. unbounded inputs

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
UNBOUNDED_CONFIGS = {
    "alias bomb": ALIAS_BOMB,
    "deep nesting": "seed: " + "[" * 5000 + "]" * 5000 + "\n",
    "4400-digit int": "seed: " + "9" * 4400 + "\n",
    "huge config": "name: x\n" + "# padding\n" * 200_000,
    "seed 1e26": "seed: 1e26\n",
    "seed 2**64": f"seed: {2**64}\n",
    "negative seed": "seed: -1\n",
    "epochs 1e23": "train: {epochs: 1e23}\n",
    "epochs 10**12": "train: {epochs: 1000000000000}\n",
    "batch 10**12": "data: {batch_size: 1000000000000}\n",
    "lr inf": "optimizer: {lr: .inf}\n",
    "lr 1e400": "optimizer: {lr: 1e400}\n",
    "long string value": "name: " + "x" * 100_000 + "\n",
    "hidden 10**9": "model: {name: mlp, hidden: [1000000000]}\ndata: {name: fashion_mnist}\n",
    "eval every 10**15": "train: {eval_every_examples: 1000000000000000}\n",
}


@pytest.mark.parametrize("text", UNBOUNDED_CONFIGS.values(), ids=UNBOUNDED_CONFIGS.keys())
def test_unbounded_config(tmp_path, text):
    config = tmp_path / "c.yaml"
    config.write_text("model: {name: linreg}\ndata: {name: airfoil}\n" + text if "model:" not in text else text)
    code, output = invoke("train", config, "--runs-dir", tmp_path / "runs")
    assert_clean(code, output, (2,))
    assert run_folders(tmp_path / "runs") == []


UNBOUNDED_ARGS = {
    "set alias bomb": ("train", AIRFOIL, "--set", "name=" + ALIAS_BOMB.replace("\n", "; ")),
    "set deep list": ("train", AIRFOIL, "--set", "seed=" + "[" * 5000),
    "set huge int": ("train", AIRFOIL, "--set", "seed=" + "9" * 4400),
    "set seed 1e26": ("train", AIRFOIL, "--set", "seed=1e26"),
    "set epochs 1e23": ("train", AIRFOIL, "--set", "train.epochs=1e23"),
    "target loss nan": ("compare-optimizers", "--target-loss", "nan"),
    "target loss inf": ("compare-optimizers", "--target-loss", "inf"),
    "lr scale nan": ("compare-optimizers", "--lr-scale", "nan"),
    "lr scale inf": ("compare-optimizers", "--lr-scale", "1,inf"),
    "seeds huge": ("compare-optimizers", "--seeds", "1000000000000"),
    "batch sizes huge": ("compare-optimizers", "--batch-sizes", "1" + "0" * 30),
}


@pytest.mark.parametrize("args", UNBOUNDED_ARGS.values(), ids=UNBOUNDED_ARGS.keys())
def test_unbounded_argument(tmp_path, args):
    code, output = invoke(*args, "--runs-dir", tmp_path / "runs")
    assert_clean(code, output, (2,))
    assert not (tmp_path / "runs").exists() or run_folders(tmp_path / "runs") == []


# ---------------------------------------------------------------- 3. bad data


def corrupt(name: str, change) -> callable:
    def damage(root: Path) -> None:
        change(next(root.glob(f"{name}*")))

    return damage


def rewrite_idx(name: str, array_of) -> callable:
    def damage(root: Path) -> None:
        path = next(root.glob(f"{name}*"))
        path.unlink()
        write_idx(root / f"{name}.gz", array_of(), True)

    return damage


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def gzip_of(raw: bytes):
    return lambda path: path.write_bytes(gzip.compress(raw))


BAD_DATA = {
    "corrupt gz": corrupt("train-images", lambda p: p.write_bytes(b"\x1f\x8b" + b"\x00garbage" * 50)),
    "truncated gz": corrupt("train-images", truncate),
    "flipped gz byte": corrupt("t10k-labels", lambda p: p.write_bytes(p.read_bytes()[:-6] + b"\x00" * 6)),
    "empty file": corrupt("train-labels", lambda p: p.write_bytes(b"")),
    "bad magic": corrupt("train-labels", gzip_of(b"\x12\x34\x08\x01" + (64).to_bytes(4, "big") + bytes(64))),
    "wrong dtype": corrupt("train-labels", gzip_of(b"\x00\x00\x0d\x01" + (16).to_bytes(4, "big") + bytes(64))),
    "length not header": corrupt("train-labels", gzip_of(b"\x00\x00\x08\x01" + (64).to_bytes(4, "big") + bytes(10))),
    "label 10": rewrite_idx("train-labels", lambda: np.full(64, 10)),
    "label 255": rewrite_idx("t10k-labels", lambda: np.full(32, 255)),
    "labels N x 1": rewrite_idx("train-labels", lambda: np.zeros((64, 1), dtype=np.int64)),
    "counts differ": rewrite_idx("train-labels", lambda: np.zeros(10, dtype=np.int64)),
    "2-D images": rewrite_idx("train-images", lambda: np.zeros((64, 784), dtype=np.int64)),
    "14 x 56 images": rewrite_idx("train-images", lambda: np.zeros((64, 14, 56), dtype=np.int64)),
    "missing file": corrupt("t10k-images", lambda p: p.unlink()),
    "a folder for a file": corrupt("t10k-images", lambda p: (p.unlink(), p.mkdir())),
}


@pytest.mark.parametrize("damage", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_bad_fashion_mnist_files(tmp_path, damage):
    root = tmp_path / "fm"
    make_fake_fashion_mnist(root)
    damage(root)
    code, output = invoke(
        "train", CONFIGS / "softmax_scratch.yaml", "--set", f"data.root={root}", "--runs-dir", tmp_path / "runs"
    )
    assert_clean(code, output, (2,))
    assert run_folders(tmp_path / "runs") == []


@pytest.mark.parametrize("where", ["missing folder", "empty folder", "a file"])
def test_explicit_data_root_without_the_files(tmp_path, where):
    root = tmp_path / "root"
    if where == "empty folder":
        root.mkdir()
    elif where == "a file":
        root.write_text("x")
    code, output = invoke(
        "train", CONFIGS / "softmax_scratch.yaml", "--set", f"data.root={root}", "--runs-dir", tmp_path / "runs"
    )
    assert_clean(code, output, (2,))
    assert str(root) in output and run_folders(tmp_path / "runs") == []


# ---------------------------------------------------------------- 4 and 5. process identity, messages


def test_a_foreign_checkpoint_is_refused_without_torchs_advice(good_run, tmp_path):
    runs = tmp_path / "runs"
    folder = runs / good_run.name
    shutil.copytree(good_run, folder)
    status = json.loads((folder / "status.json").read_text())
    (folder / "status.json").write_text(json.dumps({**status, "status": "interrupted"}))
    for content in (b"", b"PK\x03\x04 not a checkpoint", b"\x80\x04\x95" + bytes(40)):
        (folder / "checkpoints" / "last.pt").write_bytes(content)
        code, output = invoke("train", "--resume", good_run.name, "--runs-dir", runs)
        assert_clean(code, output, (2,))
        assert "weights_only=False" not in output and "last.pt" in output


@pytest.mark.parametrize("command", ["runs", "show", "plot"])
def test_runs_dir_that_is_a_file(tmp_path, command):
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = {"runs": (), "show": ("latest",), "plot": ("latest",)}[command]
    code, output = invoke(command, *args, "--runs-dir", blocker)
    assert_clean(code, output, (2,))
    assert "file" in output


@pytest.mark.parametrize("text", ["seed: 0\x00\n", "name: a\x07b\n", "\ufeffseed: 0\nname: \x1b[31m\n"])
def test_control_characters_in_a_config_name_their_place(tmp_path, text):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    code, output = invoke("train", config, "--runs-dir", tmp_path / "runs")
    assert_clean(code, output, (2,))
    assert "line" in output and run_folders(tmp_path / "runs") == []
