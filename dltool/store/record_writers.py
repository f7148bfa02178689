"""Where a run's metric records go: metrics.jsonl and metrics.csv, and TensorBoard's event files when asked for."""

from __future__ import annotations

from collections.abc import Callable

from dltool.store.run import RUN_FILES, MetricsWriter, Run
from dltool.store.tensorboard import TensorBoardWriter


class RecordWriters:
    """Where each metrics record goes: metrics.jsonl and metrics.csv, and TensorBoard when asked for."""

    def __init__(self, run: Run, tensorboard: bool, watch: Callable[[dict], None] | None = None) -> None:
        self.writers: list = [MetricsWriter(run.folder)]
        if tensorboard:
            self.writers.append(TensorBoardWriter(run.path(RUN_FILES.tensorboard)))
        self.watch = watch  # sees each record once it is stored (a tuning trial's pruner may stop the run)

    def write(self, record: dict) -> None:
        for writer in self.writers:
            writer.write(record)
        if self.watch is not None:
            self.watch(record)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
