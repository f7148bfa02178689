"""Paired timing: the notes' optimizer loops (reference_d2l.py) vs `dltool compare-optimizers`.

Both sides run the same twelve airfoil runs (six optimizers, scratch and torch.optim). Each side is
timed as a whole process (interpreter start and imports included), because that is what a user
waits for. The two alternate round by round so that drift on the machine (other load, thermal
state) hits both alike. Only figures are reported; nothing here asserts on them.

    python benchmarks/compare_optimizers.py --repeats 5 --json timings.json
"""

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REFERENCE_SCRIPT = Path(__file__).with_name("reference_d2l.py")
# {runs_dir} is replaced by a fresh temporary folder each round, so no round reads or lists the
# runs an earlier one left behind and the user's ./runs stays untouched.
# `python -m dltool` with this interpreter, like the reference: a console-script shim (pyenv's) would
# add its own start-up to dltool's side only.
DEFAULT_DLTOOL_CMD = f"{shlex.quote(sys.executable)} -m dltool compare-optimizers --runs-dir {{runs_dir}} --quiet"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds of (reference, dltool)")
    parser.add_argument(
        "--dltool-cmd",
        default=DEFAULT_DLTOOL_CMD,
        help="dltool side; {runs_dir} becomes a fresh temp folder (default: %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def timed_run(command: list[str]) -> float:
    """Wall seconds of one whole process; a failing command ends the benchmark."""
    start = time.perf_counter()
    # check=False: the exit code is checked below, after the clock stops, with the output shown.
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"command failed with exit code {result.returncode}: {shlex.join(command)}\n{result.stdout}{result.stderr}"
        )
    return elapsed


def time_reference() -> float:
    return timed_run([sys.executable, str(REFERENCE_SCRIPT)])


def time_dltool(command_template: str) -> float:
    with tempfile.TemporaryDirectory(prefix="dltool-bench-") as runs_dir:
        return timed_run(shlex.split(command_template.format(runs_dir=runs_dir)))


def warm_up() -> None:
    # Untimed: pulls torch's files into the page cache, so the first timed process (always the
    # reference) does not pay a cold-disk import that the others do not.
    timed_run([sys.executable, "-c", "import torch"])


def run_rounds(repeats: int, dltool_cmd: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"reference": [], "dltool": []}
    for round_i in range(repeats):
        times["reference"].append(time_reference())
        times["dltool"].append(time_dltool(dltool_cmd))
        print(
            f"round {round_i + 1}/{repeats}: reference {times['reference'][-1]:.2f} s, "
            f"dltool {times['dltool'][-1]:.2f} s",
            file=sys.stderr,
        )
    return times


def summarize(seconds: list[float]) -> dict:
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "runs_s": seconds}


def machine_info() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        # From the installed metadata: importing torch here would cost seconds for one string.
        "torch": metadata.version("torch"),
    }


def markdown_report(figures: dict) -> str:
    machine = figures["machine"]
    rows = [
        "| side | median s | min s |",
        "|---|---:|---:|",
    ]
    for side, label in (("reference", "reference_d2l.py (notes' loops)"), ("dltool", "dltool")):
        stats = figures[side]
        rows.append(f"| {label} | {stats['median_s']:.2f} | {stats['min_s']:.2f} |")
    return "\n".join(
        rows
        + [
            "",
            (f"dltool / reference (median): {figures['ratio_median']:.2f} over {figures['repeats']} paired round(s)"),
            (
                f"machine: {machine['cpu_count']} CPUs, {machine['processor']}"
                f" ({machine['machine']}), Python {machine['python']}, torch {machine['torch']}"
            ),
            f"dltool command: {figures['dltool_cmd']}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    warm_up()
    times = run_rounds(args.repeats, args.dltool_cmd)
    figures = {
        "repeats": args.repeats,
        "reference": summarize(times["reference"]),
        "dltool": summarize(times["dltool"]),
        "dltool_cmd": args.dltool_cmd,
        "machine": machine_info(),
    }
    figures["ratio_median"] = figures["dltool"]["median_s"] / figures["reference"]["median_s"]
    print(markdown_report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
