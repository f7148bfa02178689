"""Peak memory of one softmax training epoch on Fashion-MNIST: dltool against the notes' pipeline.

Each side runs as its own process tree, and the memory of the whole tree (the process and every
child, so the reference's DataLoader workers count) is sampled every 20 ms; the row reports the
largest sum seen. Each process counts its proportional set size (PSS: a page shared by n processes
counts 1/n in each), so forked workers' shared pages are not counted twice as plain RSS sums
would. Reading /proc makes this Linux-only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOFTMAX = HERE.parent / "configs" / "softmax_scratch.yaml"
SAMPLE_S = 0.02

# The notes' softmax chapter (seed 003): its DataLoader with get_dataloader_workers() = 4 workers,
# ToTensor per image, the scratch model and updater, one epoch of train_epoch_ch3.
REFERENCE = """
import itertools, sys
sys.path.insert(0, {here!r})
import reference_d2l as d2l
train_iter, _ = d2l.load_data_fashion_mnist(256, num_workers=d2l.get_dataloader_workers())
W, b = d2l.init_softmax_params()
batches = itertools.islice(train_iter, {batches}) if {batches} else train_iter
d2l.train_epoch_ch3(d2l.softmax_net(W, b), batches, d2l.cross_entropy, d2l.softmax_updater(W, b))
"""


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:  # the process ended between two reads
        pass
    return found


def pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # the process ended between two reads
        pass
    return 0


def tree_memory(pid: int) -> int:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += pss_bytes(current)
        pending += children(current)
    return total


def peak_tree_memory(command: list[str]) -> int:
    """Run a command that must succeed; the largest PSS sum its process tree had at one time."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_memory(process.pid))
        time.sleep(SAMPLE_S)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {process.stderr.read().decode()[-2000:]}")
    return peak


def measure(quick: bool) -> list[dict]:
    if not Path("/proc/self/smaps_rollup").exists():
        return [
            {
                "section": "memory",
                "what": "peak memory",
                "dltool": "-",
                "reference": "-",
                "ratio": None,
                "target": "≤ reference",
                "met": None,
                "note": "needs Linux /proc",
            }
        ]
    sizes = ["--set", "data.train_size=4096", "--set", "data.test_size=512"] if quick else []
    with tempfile.TemporaryDirectory(prefix="dltool-bench-mem-") as runs:
        dltool = peak_tree_memory(
            [
                sys.executable,
                "-m",
                "dltool",
                "train",
                str(SOFTMAX),
                "-q",
                "--runs-dir",
                runs,
                "--set",
                "train.epochs=1",
                *sizes,
            ]
        )
    reference = peak_tree_memory([sys.executable, "-c", REFERENCE.format(here=str(HERE), batches=16 if quick else 0)])
    mib = 2**20
    return [
        {
            "section": "memory",
            "what": "peak memory (PSS), softmax, one epoch, whole process tree",
            "dltool": f"{dltool / mib:,.0f} MiB",
            "reference": f"{reference / mib:,.0f} MiB",
            "ratio": reference / dltool,
            "target": "≤ reference",
            "met": None if quick else dltool <= reference,
            "note": "dltool: the whole `dltool train` (data held as uint8 tensors, evaluation and files included); "
            "reference: the notes' loop with its 4 DataLoader workers, training only",
        }
    ]
