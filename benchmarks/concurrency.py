"""Several runs on one machine: N `dltool train` processes started together against the same N one after
another, under `threads: auto` (the default) and under the old behaviour (every run takes all cores).

The workload is the issue's: configs/mlp_scratch.yaml for 2 epochs, whole processes (start-up included),
each in its own runs folder. "Together" is the wall time from the first start to the last end; "one after
another" is the sum of the N runs, each alone. The old behaviour is `--threads <cores>`: a count pinned to
the machine's cores, never shared, which is what torch picks by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FULL = ("mlp_scratch.yaml", ["--set", "train.epochs=2"])
QUICK = ("linreg_synthetic_scratch.yaml", ["--set", "train.epochs=1"])
COUNTS = (1, 2, 4)


def command(workload: tuple[str, list[str]], runs_dir: Path, threads: str) -> list[str]:
    config, overrides = workload
    return [sys.executable, "-m", "dltool", "train", str(CONFIGS / config), *overrides, "--quiet"] + [
        "--runs-dir",
        str(runs_dir),
        "--threads",
        threads,
    ]


def together(commands: list[list[str]]) -> tuple[float, list[float]]:
    """Wall time from the first start to the last end, and each process's own wall time."""
    start = time.perf_counter()
    processes = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for cmd in commands]
    ends = []
    for process in processes:
        _, err = process.communicate()
        if process.returncode != 0:
            sys.exit(f"a run failed ({process.returncode}): {err.decode()[-2000:]}")
        ends.append(time.perf_counter() - start)
    return max(ends), ends


def one_after_another(commands: list[list[str]]) -> float:
    return sum(together([cmd])[0] for cmd in commands)


def measure_count(workload, count: int, tmp: Path) -> dict:
    def commands(mode: str, threads: str) -> list[list[str]]:
        return [command(workload, tmp / f"{mode}-{count}-{i}", threads) for i in range(count)]

    cores = str(os.cpu_count() or 1)
    sequential = one_after_another(commands("sequential", "auto"))
    auto_wall, auto_each = together(commands("auto", "auto"))
    old_wall, old_each = together(commands("old", cores))
    return {"count": count, "sequential": sequential, "auto": (auto_wall, auto_each), "old": (old_wall, old_each)}


def rows_for(figures: dict, quick: bool) -> list[dict]:
    count, sequential = figures["count"], figures["sequential"]
    rows = []
    for mode, label in (("auto", "threads: auto (default)"), ("old", "old behaviour: every run takes all cores")):
        wall, each = figures[mode]
        ratio, goal = sequential / wall, mode == "auto" and count > 1  # one run alone: the baseline
        rows.append(
            {
                "what": f"{count} run{'s' if count > 1 else ''} started together, {label}",
                "dltool": f"{wall:.1f} s",
                "reference": f"{sequential:.1f} s one after another",
                "ratio": round(ratio, 2),
                "target": "≥ 1× (no later than one after another)" if goal else "- (for comparison)",
                "met": ratio >= 1.0 if goal and not quick else None,
                "note": "each run's wall: " + ", ".join(f"{s:.1f} s" for s in each),
            }
        )
    return rows


def measure(quick: bool) -> list[dict]:
    workload = QUICK if quick else FULL
    counts = (1, 2) if quick else COUNTS
    with tempfile.TemporaryDirectory(prefix="dltool-bench-concurrency-") as tmp:
        subprocess.run(command(workload, Path(tmp) / "warm-up", "auto"), check=True, capture_output=True)
        return [row for count in counts for row in rows_for(measure_count(workload, count, Path(tmp)), quick)]


if __name__ == "__main__":
    for row in measure(quick="--quick" in sys.argv):
        print(row)
