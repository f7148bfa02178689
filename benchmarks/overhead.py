"""Where the seconds of a small `dltool train` go outside training, against `python -c "import torch"`.

The run: configs/mlp_scratch.yaml for 2 epochs (the issue's), a whole process, median of a few. Its
overhead is the process's wall time minus the training time its summary.json records (the epochs and
their evaluations). The parts are timed as separate processes, each a median: the interpreter with
dltool's command line (`dltool --help`), then inside fresh processes (imports without the interpreter's
exit): importing torch, building the run (Fashion-MNIST from the decoded cache, model, optimizer) and
drawing its pictures by the plotting processes that `dltool train` starts with the run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_speed import wall_seconds

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PYTHON = sys.executable
DLTOOL = [PYTHON, "-m", "dltool"]
GOAL = 1.5  # overhead at most this many times the time of importing torch

BUILD_SCRIPT = """
import sys, time
import torch
from dltool.config import load_config
from dltool.train.build import build_setup
start = time.perf_counter()
build_setup(load_config(sys.argv[1], sys.argv[2:]))
print(time.perf_counter() - start)
"""
IMPORT_SCRIPT = "import time; start = time.perf_counter(); import {module}; print(time.perf_counter() - start)"
# The run's pictures as `dltool train` draws them at its end: by its plotting processes, started
# with the run (their matplotlib import is done by the time training ends: here, a second's wait).
DRAW_SCRIPT = """
import sys, time
from pathlib import Path
from dltool.plots.processes import PlotProcesses
plotter = PlotProcesses.start()
time.sleep(1.5)
start = time.perf_counter()
plotter.draw(Path(sys.argv[1]))
print(time.perf_counter() - start)
"""


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
        walls.append(wall_seconds([*DLTOOL, "train", str(config), *overrides, "--quiet", "--runs-dir", str(folder)], 1))
        (run,) = folder.iterdir()
        trains.append(json.loads((run / "summary.json").read_text())["train_time_s"])
    return statistics.median(walls), statistics.median(trains), run


def parts(config: Path, overrides: list[str], run: Path, repeats: int) -> dict[str, float]:
    """The parts of the overhead, each timed inside a fresh process (imports without the interpreter's exit)."""
    return {
        "interpreter and dltool's command line (`dltool --help`)": wall_seconds([*DLTOOL, "--help"], repeats),
        "import torch": printed([PYTHON, "-c", IMPORT_SCRIPT.format(module="torch")], repeats),
        "build the run (data from the cache, model, optimizer)": printed(
            [PYTHON, "-c", BUILD_SCRIPT, str(config), *overrides], repeats
        ),
        "draw its pictures (its plotting processes)": printed([PYTHON, "-c", DRAW_SCRIPT, str(run)], repeats),
    }


def measure(quick: bool) -> list[dict]:
    repeats = 1 if quick else 5
    config = CONFIGS / ("linreg_synthetic_scratch.yaml" if quick else "mlp_scratch.yaml")
    overrides = ["--set", "train.epochs=1" if quick else "train.epochs=2"]
    with tempfile.TemporaryDirectory(prefix="dltool-bench-overhead-") as tmp:
        wall_s, train_s, run = train_overhead(config, overrides, Path(tmp), 1 if quick else 3)
        import_torch = wall_seconds([PYTHON, "-c", "import torch"], repeats)
        breakdown = parts(config, overrides[1:], run, repeats)
    overhead = wall_s - train_s
    rest = overhead - sum(breakdown.values())
    ratio = overhead / import_torch
    note = (
        f"`dltool train configs/{config.name} {' '.join(overrides)} --quiet`: wall {wall_s:.2f} s, of which training "
        f'{train_s:.2f} s (summary.json), median of {1 if quick else 3}; `python -c "import torch"` '
        f"{import_torch:.2f} s, median of {repeats}. The parts, each its own process: "
        + "; ".join(f"{what} {seconds:.2f} s" for what, seconds in breakdown.items())
        + f"; the rest (dltool's own modules, files, the test predictions) {rest:.2f} s. A scratch run never "
        "imports torch._dynamo (1.1 s more), which torch.optim's methods import on first use; a run with "
        "optimizer.impl torch does."
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


MISSES = """
Importing torch alone is about 1.65 s of the overhead (inside the process; 2.1-2.5 s for `python -c "import
torch"` with its exit), so 1.5x leaves about 1.5 s for everything else: the interpreter with typer and rich
(0.35 s), dltool's own modules with pydantic (about 0.3 s), the pictures at the end (0.6 s, drawn by three
processes that import matplotlib while torch is imported) and the files and the test predictions. Done
in this round: Fashion-MNIST from a decoded cache (0.3 s to 0.03 s), pictures as PNG only and no flat lr
picture, the pictures drawn side by side by processes started with the run (1.5 s to 0.6 s), no
torch._dynamo import for scratch optimizers (1.1 s), no config schema import for commands that do not read
one. The overhead went from 6.2 s at the start of this round (7.8 s wall for 1.6 s of training) to 4.0 s here.
"""


if __name__ == "__main__":
    for row in measure(quick="--quick" in sys.argv):
        print(row)
