"""Where a run's metric records go: metrics.jsonl and metrics.csv, and TensorBoard's event files when asked for."""

from __future__ import annotations

from dltool.store.run import RUN_FILES, MetricsWriter, Run
from dltool.store.tensorboard import TensorBoardWriter


class RecordWriters:
    """Where each metrics record goes: metrics.jsonl and metrics.csv, and TensorBoard when asked for."""

    def __init__(self, run: Run, tensorboard: bool) -> None:
        self.writers: list = [MetricsWriter(run.folder)]
        if tensorboard:
            self.writers.append(TensorBoardWriter(run.path(RUN_FILES.tensorboard)))

    def write(self, record: dict) -> None:
        for writer in self.writers:
            writer.write(record)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
