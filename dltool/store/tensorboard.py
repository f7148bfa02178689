"""TensorBoard event files from metric records, live during training or exported from a stored run."""

from __future__ import annotations

from pathlib import Path

from dltool.errors import UsageError


def require_tensorboard() -> None:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise UsageError(
            "TensorBoard output needs the tensorboard package: pip install tensorboard "
            "(or pip install 'dltool[tensorboard]'), or set train.tensorboard: false"
        ) from None


class TensorBoardWriter:
    """One scalar per metric and split (e.g. test/loss, train/acc, lr), against the optimizer step."""

    def __init__(self, log_dir: Path) -> None:
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, record: dict) -> None:
        step = record["step"]
        for key in ("loss", "acc"):
            if record.get(key) is not None:
                self.writer.add_scalar(f"{record['split']}/{key}", record[key], step, walltime=None)
        if record["split"] == "train" and record.get("lr") is not None:
            self.writer.add_scalar("lr", record["lr"], step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def export_run(run, log_dir: Path | None = None) -> Path:
    """Event files for a stored run (in its tensorboard/ folder unless told otherwise)."""
    records = run.metrics()
    if not records:
        raise UsageError(f"run '{run.id}' has no metrics yet; nothing to export")
    target = log_dir or run.path("tensorboard")
    writer = TensorBoardWriter(target)
    try:
        for record in records:
            writer.write(record)
    finally:
        writer.close()
    return target
