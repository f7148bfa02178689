"""Where the seconds of a small `dltool train` go outside training, against `python -c "import torch"`.

The run: configs/mlp_scratch.yaml for 2 epochs (the issue's), a whole process, median of a few. Its
overhead is the process's wall time minus the training time its summary.json records (the epochs and
their evaluations). The parts are timed as separate processes, each a median: the interpreter with
dltool's command line, importing torch, torch._dynamo (which torch.optim imports on an optimizer's first
use), building the run (Fashion-MNIST from the decoded cache, model, optimizer) and drawing its
pictures (`dltool plot RUN`, which imports no torch, less `dltool --help`).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PYTHON = sys.executable
DLTOOL = [PYTHON, "-m", "dltool"]
GOAL = 1.5  # overhead at most this many times the time of importing torch

BUILD_SCRIPT = """
import sys, time
import torch, torch._dynamo
from dltool.config import load_config
from dltool.train.build import build_setup
start = time.perf_counter()
build_setup(load_config(sys.argv[1], sys.argv[2:]))
print(time.perf_counter() - start)
"""


def wall(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def printed(command: list[str], repeats: int) -> float:
    """Median of the number a command prints (an in-process timing)."""
    return statistics.median(
        float(subprocess.run(command, check=True, capture_output=True, text=True).stdout) for _ in range(repeats)
    )


def train_overhead(config: Path, overrides: list[str], runs: Path, repeats: int) -> tuple[float, float, Path]:
    """Median wall time and median training time of `repeats` runs, and one run's folder."""
    walls, trains = [], []
    for i in range(repeats):
        folder = runs / str(i)
        walls.append(wall([*DLTOOL, "train", str(config), *overrides, "--quiet", "--runs-dir", str(folder)], 1))
        (run,) = folder.iterdir()
        trains.append(json.loads((run / "summary.json").read_text())["train_time_s"])
    return statistics.median(walls), statistics.median(trains), run


def parts(config: Path, overrides: list[str], run: Path, repeats: int) -> dict[str, float]:
    interpreter = wall([PYTHON, "-c", "pass"], repeats)
    cli = wall([*DLTOOL, "--help"], repeats)
    torch_s = wall([PYTHON, "-c", "import torch"], repeats)
    return {
        "interpreter and dltool's command line": cli,
        "import torch": torch_s - interpreter,
        "import torch._dynamo (by torch.optim)": wall([PYTHON, "-c", "import torch, torch._dynamo"], repeats) - torch_s,
        "build the run (data from the cache, model, optimizer)": printed(
            [PYTHON, "-c", BUILD_SCRIPT, str(config), *overrides], repeats
        ),
        "draw its pictures (PNG)": wall([*DLTOOL, "plot", run.name, "--runs-dir", str(run.parent)], repeats) - cli,
    }


def measure(quick: bool) -> list[dict]:
    repeats = 1 if quick else 5
    config = CONFIGS / ("linreg_synthetic_scratch.yaml" if quick else "mlp_scratch.yaml")
    overrides = ["--set", "train.epochs=1" if quick else "train.epochs=2"]
    with tempfile.TemporaryDirectory(prefix="dltool-bench-overhead-") as tmp:
        wall_s, train_s, run = train_overhead(config, overrides, Path(tmp), 1 if quick else 3)
        import_torch = wall([PYTHON, "-c", "import torch"], repeats)
        breakdown = parts(config, overrides[1:], run, repeats)
    overhead = wall_s - train_s
    rest = overhead - sum(breakdown.values())
    ratio = overhead / import_torch
    note = (
        f"`dltool train configs/{config.name} {' '.join(overrides)} --quiet`: wall {wall_s:.2f} s, of which training "
        f'{train_s:.2f} s (summary.json), median of {1 if quick else 3}; `python -c "import torch"` '
        f"{import_torch:.2f} s, median of {repeats}. The parts, each its own process: "
        + "; ".join(f"{what} {seconds:.2f} s" for what, seconds in breakdown.items())
        + f"; the rest (files, test predictions, exit) {rest:.2f} s."
    )
    return [
        {
            "what": "`dltool train` overhead (wall minus training) against `import torch`",
            "dltool": f"{overhead:.2f} s",
            "reference": f"{import_torch:.2f} s",
            "ratio": round(ratio, 2),
            "target": f"overhead ≤ {GOAL:g}× import torch (ratio = overhead / import)",
            "met": None if quick else ratio <= GOAL,
            "note": note,
        }
    ]


if __name__ == "__main__":
    for row in measure(quick="--quick" in sys.argv):
        print(row)
