"""Plotting processes started when `dltool train` starts, so that the pictures at its end cost less wait.

A run's pictures took 1.5 s at the end of a small run (mlp_scratch, 2 epochs: as long as its training):
0.45 s importing matplotlib, then drawing one figure after another. One process per part of the
pictures (plots.axes.PARTS), started before torch is imported, does the matplotlib import on the other
core meanwhile, sleeps while the run trains, and at the end draws its part while the others draw
theirs: the wait is the slowest part's, on as many cores as there are (about 0.6 s on two).

Protocol, one JSON line each way: the run folder and the part in, the paths written (or the error) out.
A worker ignores Ctrl-C (the run handles it and still asks for its pictures) and ends when its input
closes, so it never outlives the run, even one killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

from dltool.plots.axes import PARTS

ENDED = '{"error": "a plotting process ended before it answered"}'


class PlotProcesses:
    """One worker process per part of a run's pictures; `draw` sends a run to all of them."""

    def __init__(self, processes: list[subprocess.Popen]) -> None:
        self.processes = processes

    @classmethod
    def start(cls) -> PlotProcesses | None:
        """The workers, started now; None where a process cannot be started (the run then draws itself)."""
        command = [sys.executable, "-m", "dltool.plots.worker"]
        processes: list[subprocess.Popen] = []
        try:
            for _ in PARTS:
                processes.append(
                    subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
                )
        except OSError:
            cls(processes).close()
            return None
        return cls(processes)

    def draw(self, folder: Path) -> list[Path]:
        """Every picture of the run in `folder`, each part by its worker; RuntimeError if one failed."""
        for process, part in zip(self.processes, PARTS, strict=True):
            process.stdin.write(json.dumps({"run": str(folder), "part": part}) + "\n")
        answers = [
            json.loads(process.stdout.readline() or '{"error": "the plotting process ended"}')
            for process in self.processes
        ]
        errors = [answer["error"] for answer in answers if "error" in answer]
        if errors:
            raise RuntimeError(errors[0])
        return [Path(path) for answer in answers for path in answer["paths"]]

    def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the worker's loop ends; it exits by itself
