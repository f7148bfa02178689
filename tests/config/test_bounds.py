"""Every input is bounded (dltool.safe_yaml, dltool.bounds): past a bound, one short line and exit 2, no run folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dltool.bounds import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, MAX_WIDTH
from dltool.safe_yaml import MAX_DEPTH, MAX_NODES, MAX_TEXT
from tests.conftest import REPO, run_folders


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """`a: &a [x, x, ...]`, `b: &b [*a, *a, ...]`, ...: width**levels values once expanded."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]"]
    lines += [f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]" for prev, name in zip(names, names[1:])]
    return "\n".join(lines) + "\n"


# config text -> fragments its message must contain
FILES = {
    "alias bomb": (alias_bomb(), ["more than 10,000 values once its aliases"]),
    "self-referring alias": ("seed: &a [*a]\n", ["aliases expanded"]),
    "deep nesting": ("seed: " + "[" * 5000 + "]" * 5000 + "\n", ["line 1", f"nested more than {MAX_DEPTH} levels"]),
    "deep nesting through aliases": (
        "a: &a " + "[" * 20 + "1" + "]" * 20 + "\nb: " + "[" * 20 + "*a" + "]" * 20 + "\n",
        ["aliases expanded"],
    ),
    "huge int": ("seed: " + "9" * 4400 + "\n", ["line 1, column 7", "4400 digits", "at most 18"]),
    "huge hex int": ("seed: 0x" + "f" * 40 + "\n", ["40 digits"]),
    "seed 1e26 as a float": ("seed: 1e26\n", ["seed", "valid integer"]),
    "seed 1e26 written out": ("seed: 1" + "0" * 26 + "\n", ["27 digits"]),
    "seed 2**32": (f"seed: {2**32}\n", ["seed", f"less than or equal to {MAX_SEED}"]),
    "negative seed": ("seed: -1\n", ["seed", "greater than or equal to 0"]),
    "epochs 1e23": ("train: {epochs: 1e23}\n", ["train.epochs", "valid integer"]),
    "epochs 1e23 written out": ("train: {epochs: 1" + "0" * 23 + "}\n", ["24 digits"]),
    "epochs past the bound": (f"train: {{epochs: {MAX_EPOCHS + 1}}}\n", ["train.epochs", "less than or equal to"]),
    "batch size past the bound": (
        f"data: {{batch_size: {MAX_BATCH_SIZE + 1}}}\n",
        ["data.batch_size", f"less than or equal to {MAX_BATCH_SIZE}"],
    ),
    "huge eval interval": ("train: {eval_every_examples: 100000000000000}\n", ["train.eval_every_examples"]),
    "NUL byte": ("seed: 0\nname: a\x00b\n", ["line 2, column 8", "unacceptable character #x0000"]),
    "bad date": ("name: 2001-13-45\n", ["line 1", "cannot read '2001-13-45'"]),
    "list as a key": ("? [1]\n: 2\n", ["line 1", "keys are names"]),
    "bad explicit int": ("seed: !!int abc\n", ["cannot read 'abc' as !!int"]),
}


@pytest.mark.parametrize("text, fragments", FILES.values(), ids=FILES.keys())
def test_config_past_a_bound_exits_2(dltool, runs_dir, tmp_path, text, fragments):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    result = dltool("train", config)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output.splitlines()) == 1 and len(result.output) < 300, result.output
    for fragment in fragments:
        assert fragment in result.output
    assert run_folders(runs_dir) == []


AIRFOIL = str(REPO / "configs" / "linreg_airfoil_scratch.yaml")
MLP_FILE = str(REPO / "configs" / "mlp_torch.yaml")
# --set arguments -> fragments
SETS = {
    "huge int": ([AIRFOIL, "seed=" + "9" * 30], ["30 digits"]),
    "seed past the bound": ([AIRFOIL, f"seed={2**32}"], ["--set seed=4294967296", "less than or equal"]),
    "epochs past the bound": ([AIRFOIL, "train.epochs=100000"], ["--set train.epochs=100000"]),
    "deep value": ([AIRFOIL, "name=" + "[" * 100 + "]" * 100], ["nested more than"]),
    "alias bomb value": ([AIRFOIL, "name={" + alias_bomb().replace("\n", ", ") + "}"], ["more than 10,000"]),
    "huge value": ([AIRFOIL, "name=" + "x" * (MAX_TEXT + 1)], ["the limit is 64 KiB"]),
    "key of many parts": ([AIRFOIL, "a." * 40 + "b=1"], ["a key of 41 parts"]),
    "hidden past the bound": ([MLP_FILE, f"model.hidden=[{MAX_WIDTH + 1}]"], ["--set model.hidden", "65536"]),
    "too many layers": ([MLP_FILE, f"model.hidden=[{', '.join(['8'] * 65)}]"], ["at most 64 items"]),
    "resize past the bound": ([MLP_FILE, "data.resize=5000"], ["data.resize", "1024"]),
    "milestone past the bound": (
        [AIRFOIL, "schedule.name=piecewise", "schedule.milestones=[10000000000000]"],
        ["schedule.milestones"],
    ),
    "num_examples past the bound": (
        [AIRFOIL, "data.name=synthetic_linreg", "data.num_examples=100000000"],
        ["data.num_examples"],
    ),
}


@pytest.mark.parametrize("args, fragments", SETS.values(), ids=SETS.keys())
def test_set_past_a_bound_exits_2(dltool, runs_dir, args, fragments):
    config, *sets = args
    result = dltool("train", config, *[arg for text in sets for arg in ("--set", text)])
    assert result.exit_code == 2, result.output[:500]
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output) < 300, result.output[:500]
    for fragment in fragments:
        assert fragment in result.output
    assert run_folders(runs_dir) == []


def test_long_value_is_shown_as_a_short_excerpt(dltool, runs_dir, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("name: " + "x" * 50_000 + "\n")
    result = dltool("train", config)
    assert result.exit_code == 2 and "name" in result.output and "xxx…" in result.output
    assert len(result.output) < 300, result.output[:500]
    assert run_folders(runs_dir) == []


def test_file_past_the_size_bound(dltool, runs_dir, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("# padding\n" * (MAX_TEXT // 10 + 1) + "seed: 0\n")
    result = dltool("train", config)
    assert result.exit_code == 2 and "bigger than 64 KiB" in result.output
    assert run_folders(runs_dir) == []


STUDY_OPTIONS = {
    "target loss nan": (["--target-loss", "nan"], ["--target-loss nan", "finite"]),
    "target loss inf": (["--target-loss", "inf"], ["finite"]),
    "lr scale nan": (["--lr-scale", "1,nan"], ["--lr-scale", "finite"]),
    "lr scale inf": (["--lr-scale", "1e999"], ["finite"]),
    "batch size past the bound": (["--batch-sizes", "10,100000000"], ["--batch-sizes", "at most 1,000,000"]),
    "batch size of 5000 digits": (["--batch-sizes", "9" * 5000], ["expected comma-separated numbers", "…"]),
    "too many values": (["--lr-scale", ",".join(str(i + 1) for i in range(101))], ["101 values"]),
    "too many seeds": (["--seeds", "100000"], ["--seeds"]),
}


@pytest.mark.parametrize("args, fragments", STUDY_OPTIONS.values(), ids=STUDY_OPTIONS.keys())
def test_compare_numeric_options_are_bounded(dltool, runs_dir, args, fragments):
    result = dltool("compare-optimizers", "--jobs", "1", *args)
    assert result.exit_code == 2, result.output[:500]
    assert "Traceback" not in result.output and len(result.output) < 1000
    for fragment in fragments:
        assert fragment in result.output
    assert run_folders(runs_dir) == []


# Loads a file with the reader `dltool train` uses, under an address-space limit of what the process has
# mapped so far plus 100 MB: an expansion would raise MemoryError (exit 1) instead of filling the machine.
LOAD_BOUNDED = textwrap.dedent(
    """
    import resource, sys, time
    from pathlib import Path
    from dltool.config import read_yaml
    from dltool.errors import UsageError

    mapped = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:")) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 100 * 2**20, resource.RLIM_INFINITY))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        read_yaml(Path(sys.argv[1]))
    except UsageError as exc:
        print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, exc)
    """
)


@pytest.mark.parametrize(
    "text",
    [alias_bomb(), alias_bomb(levels=20, width=20), "a: " + "[" * 60_000],
    ids=["alias bomb 9^9", "alias bomb 20^20", "60,000 nested ["],
)
def test_alias_bomb_and_deep_nesting_are_refused_fast_in_little_memory(tmp_path, text):
    config = tmp_path / "bomb.yaml"
    config.write_text(text)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_BOUNDED, str(config)], capture_output=True, text=True, timeout=30, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seconds, grown_kib, message = done.stdout.split(" ", 2)
    assert float(seconds) < 1.0 and int(grown_kib) < 100 * 1024, done.stdout
    assert "more than" in message


def test_counts_are_exact_at_the_bounds(tmp_path):
    from dltool.safe_yaml import YamlBoundError, safe_load

    assert len(safe_load("[" + ", ".join(["1"] * (MAX_NODES - 1)) + "]")) == MAX_NODES - 1
    with pytest.raises(YamlBoundError):
        safe_load("[" + ", ".join(["1"] * MAX_NODES) + "]")
    assert safe_load("[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1)) is not None
    with pytest.raises(YamlBoundError):
        safe_load("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH)
    assert safe_load("a: " + "9" * 18) == {"a": int("9" * 18)}
    with pytest.raises(YamlBoundError):
        safe_load("a: " + "9" * 19)
