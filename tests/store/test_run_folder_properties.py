"""Whatever bytes a run folder's files hold, `dltool runs`, `show` and `plot` answer with exit 0 (what
could be read) or exit 2 (one line saying what is wrong), never a traceback (issue 17).

Each example copies one prebuilt run (a real airfoil run) into a fresh runs folder and overwrites one
of its files with generated content: raw bytes, JSON values, the real file with one value replaced or
cut short, and for metrics.jsonl real records mixed with generated lines.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dltool.cli import app
from dltool.train import run as training
from tests.conftest import CONFIGS, only_run

RUN_FILES = ("config.yaml", "status.json", "summary.json", "metrics.jsonl", "env.json")
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["running", "completed", "diverged", "full", "train", "test", "[bold]", "[/]"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def dumps(value) -> bytes:
    return json.dumps(value).encode()


def replaced(original: dict, text: bool = False) -> st.SearchStrategy[bytes]:
    """The real content with one key (a real one, mostly) set to a generated value."""
    keys = st.sampled_from(sorted(original)) | st.text(max_size=6)

    def encode(key: str, value) -> bytes:
        changed = {**original, key: value}
        return yaml.safe_dump(changed).encode() if text else dumps(changed)

    return st.builds(encode, keys, json_values)


def cut_short(original: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(original)).map(lambda n: original[:n])


def metrics_content(original: bytes) -> st.SearchStrategy[bytes]:
    """Real records, records with a value replaced, generated values and raw bytes, one per line."""
    records = [json.loads(line) for line in original.splitlines()]
    line = (
        st.sampled_from(original.splitlines())
        | st.sampled_from(records).flatmap(replaced)
        | json_values.map(dumps)
        | st.binary(max_size=40)
    )
    joined = st.tuples(st.lists(line, max_size=12), st.booleans())
    return joined.map(lambda parts: b"\n".join(parts[0]) + (b"\n" if parts[1] else b""))


def content_for(folder: Path, name: str) -> st.SearchStrategy[bytes]:
    original = (folder / name).read_bytes()
    generic = st.binary(max_size=200) | json_values.map(dumps) | cut_short(original)
    if name == "metrics.jsonl":
        return metrics_content(original) | generic
    if name == "config.yaml":
        return replaced(yaml.safe_load(original), text=True) | st.text(max_size=80).map(str.encode) | generic
    return replaced(json.loads(original)) | generic


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(training, "draw_run_plots", lambda run: None)
        args = ["train", str(CONFIGS / "linreg_airfoil_torch.yaml"), "--runs-dir", str(runs), "-q"]
        assert CliRunner().invoke(app, [*args, "--set", "train.epochs=1"], catch_exceptions=False).exit_code == 0
    return only_run(runs)


def invoke(*args) -> None:
    """One command in-process; an exception fails the test with its traceback (catch_exceptions=False)."""
    result = CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)
    assert result.exit_code in (0, 2), result.output
    said = result.stderr.splitlines()  # at most a warning per run (records skipped), then the error
    assert all(line.startswith(("warning: run ", "error: ")) for line in said), result.stderr
    if result.exit_code == 2:
        assert said and said[-1].startswith("error: ") and not result.stdout, result.output


PLOTS = st.sampled_from(["standard"] + ["svg"] * 7)  # a run's standard pictures take 0.6 s, an svg 0.1 s
METRICS = st.sampled_from(["loss", "acc", "lr"])
AXES = st.sampled_from(["epoch", "step", "examples", "time"])


@pytest.mark.parametrize("name", RUN_FILES)
def test_any_bytes_in_a_run_file_give_exit_0_or_2(template, name):
    @PROPERTY_SETTINGS
    @given(content=content_for(template, name), plot=PLOTS, metric=METRICS, x=AXES)
    def check(content: bytes, plot: str, metric: str, x: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            runs = Path(tmp)
            folder = runs / template.name
            shutil.copytree(template, folder, ignore=shutil.ignore_patterns("checkpoints", "plots"))
            (folder / name).write_bytes(content)
            for fmt in ("table", "json"):
                invoke("runs", "--runs-dir", runs, "--format", fmt)
            invoke("show", "latest", "--runs-dir", runs)
            if plot == "standard":
                invoke("plot", "latest", "--runs-dir", runs)
            else:
                invoke("plot", "latest", "--runs-dir", runs, "--metric", metric, "--x", x, "--out", runs / "x.svg")

    check()
