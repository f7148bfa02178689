"""The checkpoint format, in one place: what a checkpoint holds, how it is written and read back.

A checkpoint is a run's Setup (model, optimizer, scheduler, loss scaler, data order) and Position,
with every random number generator the run draws from, so a resumed run continues exactly. It is
saved with torch.save as tensors and plain numbers only, so reading it needs no pickled code
(torch.load(weights_only=True)).
"""

from __future__ import annotations

import random
from dataclasses import asdict

import numpy as np
import torch

from dltool.errors import UsageError
from dltool.files import atomic_write
from dltool.store.run import RUN_FILES, Run
from dltool.train.setup import Position, Setup

# What checkpoint_state writes: a file without one of them is no dltool checkpoint
CHECKPOINT_KEYS = (
    "model",
    "optimizer",
    "scheduler",
    "scaler",
    "batches",
    "torch_rng",
    "cuda_rng",
    "host_rng",
    "position",
)


def checkpoint_state(setup: Setup, position: Position) -> dict:
    """Everything that decides what training does next, at `position` (elapsed: the training time so far)."""
    return {
        "model": {name: alone(tensor) for name, tensor in setup.model.state_dict().items()},
        "optimizer": setup.optimizer.state_dict(),
        "scheduler": setup.scheduler.state_dict(),
        "scaler": setup.scaler.state_dict(),
        "batches": setup.batches.state_dict(mid_epoch=position.mid_epoch),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "host_rng": host_rng_state(),
        "position": asdict(position),
    }


def alone(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor` in storage of its own: a population member's parameters are rows of the population's
    tensors (train/population.py), and torch.save writes a view's whole storage."""
    return tensor.clone() if tensor.untyped_storage().nbytes() > tensor.nbytes else tensor


def save_checkpoint(run: Run, setup: Setup, position: Position) -> None:
    """The run's checkpoint via a temporary file, fsync and rename: a crash never leaves half a file."""
    run.path(RUN_FILES.checkpoints).mkdir(exist_ok=True)
    state = checkpoint_state(setup, position)
    atomic_write(run.path(RUN_FILES.checkpoint), lambda handle: torch.save(state, handle))


def read_checkpoint(run: Run) -> dict:
    """The run's checkpoint on the CPU (with several processes rank 0 reads it and sends it to the others)."""
    path = run.path(RUN_FILES.checkpoint)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(
            f"run '{run.id}' has no checkpoint yet ({RUN_FILES.checkpoint}); start it again instead"
        ) from None
    except Exception:  # torch raises many kinds for a truncated or foreign file, and its message advises
        # weights_only=False: wrong for a file that may not be ours, so it is not passed on
        raise UsageError(unreadable(run, "it is damaged, or was not written by dltool")) from None
    if not isinstance(state, dict) or not all(key in state for key in CHECKPOINT_KEYS):
        raise UsageError(unreadable(run, "it does not hold what a dltool checkpoint holds"))
    return state


def unreadable(run: Run, why: str) -> str:
    return (
        f"{run.path(RUN_FILES.checkpoint)}: not a readable dltool checkpoint ({why}); "
        f"start the run again instead: dltool train {run.path(RUN_FILES.config)}"
    )


def load_checkpoint(run: Run, state: dict, setup: Setup) -> Position:
    """Put `setup` where the checkpoint left it; load_state_dict moves each state to its device."""
    try:
        setup.model.load_state_dict(state["model"])
        setup.optimizer.load_state_dict(state["optimizer"])
        setup.scheduler.load_state_dict(state["scheduler"])
        setup.scaler.load_state_dict(state["scaler"])
        setup.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        set_host_rng_state(state["host_rng"])
        return Position(**state["position"])
    except Exception as exc:  # torch's messages run to many lines (a size mismatch lists every tensor)
        first_line = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise UsageError(unreadable(run, f"it does not fit this run: {type(exc).__name__}: {first_line}")) from None


def host_rng_state() -> dict:
    """Python's and numpy's global RNG states as tensors and plain numbers (weights_only-loadable)."""
    version, words, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": version, "words": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "cached": cached,
        },
    }


def set_host_rng_state(state: dict) -> None:
    python, nump = state["python"], state["numpy"]
    random.setstate((python["version"], tuple(python["words"].tolist()), python["gauss"]))
    keys = nump["keys"].numpy().astype(np.uint32)
    np.random.set_state((nump["kind"], keys, nump["pos"], nump["has_gauss"], nump["cached"]))
