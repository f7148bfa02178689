"""The population engine (dltool.train.population) against the process path, each side a whole process
(start-up included), the two sides alternating so that drift on the machine hits both alike:
- the airfoil comparison under `--protocol full` (tuning pools of 20 trials per optimizer, then 5 seeds);
- 30 softmax members on Fashion-MNIST, one epoch each (a sweep of 30 learning rates);
- a 1,000-trial airfoil tuning pool under the population engine alone (a goal in seconds).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DLTOOL = [sys.executable, "-m", "dltool"]
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def wall(command: list[str]) -> float:
    """Wall seconds of one whole process, in a fresh runs folder; a failing command ends the benchmark."""
    with tempfile.TemporaryDirectory(prefix="dltool-bench-pop-") as runs:
        start = time.perf_counter()
        result = subprocess.run([*command, "--runs-dir", runs, "-q"], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed


def paired(command: list[str], rounds: int) -> tuple[float, float]:
    """Median wall of (population, process) over alternating rounds."""
    times: dict[str, list[float]] = {"population": [], "process": []}
    for _ in range(rounds):
        for engine in times:
            times[engine].append(wall([*command, "--engine", engine]))
    return statistics.median(times["population"]), statistics.median(times["process"])


def row(what: str, dltool_s: float, target: str, met: bool | None, note: str, reference_s=None) -> dict:
    ratio = reference_s / dltool_s if reference_s else None
    reference = f"{reference_s:.2f} s (process path)" if reference_s else "-"
    return {"section": "population", "what": what, "dltool": f"{dltool_s:.2f} s", "reference": reference,
            "ratio": ratio, "target": target, "met": met, "note": note}  # fmt: skip


def measure(quick: bool) -> list[dict]:
    rounds = 1 if quick else 3
    full = ["--tune", "2", "--seeds", "2"] if quick else ["--protocol", "full"]
    compare_pop, compare_proc = paired([*DLTOOL, "compare-optimizers", *full], rounds)
    count = 4 if quick else 30
    lrs = ",".join(f"{0.01 * 1.15**i:.4g}" for i in range(count))
    subset = ["--set", "data.train_size=2000", "--set", "data.test_size=500"] if quick else []
    softmax = [*DLTOOL, "sweep", str(CONFIGS / "softmax_torch.yaml"), "--grid", f"optimizer.lr={lrs}"]
    softmax_pop, softmax_proc = paired([*softmax, "--set", "train.epochs=1", *subset], rounds)
    trials = 20 if quick else 1000
    space = ["--space", "optimizer.lr=loguniform(1e-4,1)", "--trials", str(trials)]
    pool_s = wall([*DLTOOL, "tune", str(CONFIGS / "linreg_airfoil_torch.yaml"), *space])
    return [
        row("`compare-optimizers --protocol full`, airfoil (120 trials + 6 untuned + 60 seeds)" if not quick
            else "`compare-optimizers --tune 2 --seeds 2`, airfoil", compare_pop, "≥ 10×",
            None if quick else compare_proc / compare_pop >= 10,
            f"medians of {rounds} alternating rounds, whole processes", compare_proc),
        row(f"{count} softmax members on Fashion-MNIST, 1 epoch (a sweep of {count} learning rates)", softmax_pop,
            "≥ 2×", None if quick else softmax_proc / softmax_pop >= 2,
            f"medians of {rounds} alternating rounds, whole processes", softmax_proc),
        row(f"a {trials:,}-trial airfoil tuning pool (`dltool tune`, population engine)", pool_s, "< 30 s",
            None if quick else pool_s < 30, "one process, pruning on (the median pruner)"),
    ]  # fmt: skip


MISSES = """
A population shares the forward and backward passes and the process start-up; it cannot share what each
member does on its own, and on these problems that is most of the time. Sampled with py-spy (200 Hz) over
the airfoil comparison under `--protocol full` with `--jobs 1`, 6,908 samples: the stacked forward and
backward 6%; the members' own optimizer steps 14% (scratch and torch.optim alike, 50-90 us a step, most of
it Python around six small kernels); each member's Setup, run folder and first status 13%; its
evaluations and records 8%, of which Optuna's report and pruning decision 5%; Optuna's ask 8%; the
pictures 18% (the six tuning studies' history, slices and importances, then the comparison's); imports 20%.
The process path pays all but the first and the imports once per worker, which is why the two are close.
A stacked update of the scratch optimizers (one update of the population with per-member hyperparameter
tensors) would remove at most the scratch half of the 14% and would change their last bits (torch's add
with alpha is a fused multiply-add; a tensor of rates is not), which RMSprop amplifies; the members
instead step their own rows of the stacked parameters with their own optimizers, called without torch's
profiler hook (Adam 93 -> 64 us a step). The next steps: Optuna's storage kept in memory during a
population and written once; the records written in batches; the pictures of a comparison's tuning
studies drawn in another process while the next pool trains.
"""
