"""Data-parallel training on torch.distributed: which process this is, and the collectives the loop needs.

torchrun (or `dltool train --nproc N`, which launches it) starts one process per rank, with RANK,
WORLD_SIZE, LOCAL_RANK and the rendezvous in the environment. Outside torchrun the world has one
process and every collective here is the identity, so a single-process run does what it always did.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
from torch import nn

from dltool.config import Config
from dltool.errors import DltoolError, UsageError
from dltool.registry import DATASETS, OPTIMIZERS

# A collective still waiting on a peer after this long raises instead of hanging. A killed peer is
# noticed much sooner: its sockets close, and torchrun stops the other ranks when one of them exits.
COLLECTIVE_TIMEOUT = timedelta(seconds=120)
# What a collective says when a peer process is gone or silent: NCCL raises DistError, gloo a plain
# RuntimeError whose message names the cause among the file paths and advice.
PEER_LOST = re.compile(r"Connection (?:closed|reset) by peer|Broken pipe|[Tt]imed out|NCCL communicator was aborted")


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the run folder and prints; the other ranks only train."""
        return self.rank == 0

    def shard(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's part of a global batch: contiguous, disjoint, sizes differing by at most one."""
        return index.tensor_split(self.size)[self.rank] if self.distributed else index

    def shard_rows(self, n: int) -> slice:
        """The rows of an n-row split this rank evaluates (the same cut as `shard`)."""
        base, extra = divmod(n, self.size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over all ranks, in float64 so counts and loss sums stay exact enough."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's object, on every rank (pickled; for small things and checkpoints)."""
        if not self.distributed:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0, device=torch.device("cpu"))
        return box[0]

    def gather(self, obj: Any) -> list:
        if not self.distributed:
            return [obj]
        out: list = [None] * self.size
        torch.distributed.all_gather_object(out, obj)
        return out

    def from_main(self, produce: Callable[[], Any]) -> Any:
        """What rank 0 computes (a run looked up, a checkpoint read), given to every rank: the other ranks
        need not see rank 0's disk. A DltoolError there is raised on every rank, so all of them exit with
        its code, and only rank 0 prints it."""
        if not self.distributed:
            return produce()
        result, error = None, None
        if self.is_main:
            try:
                result = produce()
            except DltoolError as exc:
                error = exc
            except BaseException:
                self.broadcast((None, DltoolError("rank 0 failed; its error is in its output")))
                raise
        result, error = self.broadcast((result, error))
        if error is not None:
            if not self.is_main:
                error.reported_elsewhere = True
            raise error
        return result

    def together(self, build: Callable[[], Any]) -> Any:
        """`build` on every rank; a DltoolError on any of them is raised on all, printed by rank 0 alone.
        Without this the first rank to exit with it makes torchrun stop the others, rank 0 included,
        before rank 0 has said why."""
        if not self.distributed:
            return build()
        result, error = None, None
        try:
            result = build()
        except DltoolError as exc:
            error = exc
        failed = [(rank, exc) for rank, exc in enumerate(self.gather(error)) if exc is not None]
        if not failed:
            return result
        rank, first = failed[0]
        if not self.is_main:
            first.reported_elsewhere = True
        elif rank != 0:
            first = type(first)(f"rank {rank}: {first}")
        raise first

    def sync_buffers(self, model: nn.Module) -> None:
        """Rank 0's buffers (BatchNorm's running statistics) on every rank. DDP broadcasts them before
        each training forward; evaluation needs them equal too, as every rank evaluates its own rows."""
        if self.distributed:
            for buffer in model.buffers():
                torch.distributed.broadcast(buffer, src=0)

    def wrap(self, model: nn.Module, device: torch.device, sync_bn: bool) -> nn.Module:
        """The module training steps call: DDP averages the gradients over ranks in backward, so any
        optimizer (the scratch ones too) steps on the global batch's mean gradient."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            forward_sync_buffers=not sync_bn,  # synchronized BN keeps equal statistics on every rank by itself
        )

    def describe(self) -> dict:
        """For status.json: how many ranks, and where each one runs (collective: every rank calls it)."""
        ranks = self.gather({"rank": self.rank, "host": socket.gethostname(), "pid": os.getpid()})
        return {"world_size": self.size, "backend": torch.distributed.get_backend(), "ranks": ranks}


def lost_peer(exc: BaseException) -> str | None:
    """'lost contact with ...' when `exc` is a collective failing because another rank died or went
    silent (not a bug of this rank: no traceback needed); None for any other error."""
    match = PEER_LOST.search(str(exc))
    if match is None and not isinstance(exc, torch.distributed.DistError):
        return None
    cause = match.group(0) if match else type(exc).__name__
    return f"lost contact with another process of this run ({cause})"


def join_world() -> World:
    """This process's place in the torchrun job, joining its process group; World() outside torchrun."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if not torch.distributed.is_initialized():
        if torch.cuda.is_available() and world.local_rank < torch.cuda.device_count():
            torch.cuda.set_device(world.local_rank)
        # gloo for CPU tensors (the loop's sums, CPU training), nccl for CUDA ones
        backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    return world


def rank_device(device: torch.device, spec: str, world: World) -> torch.device:
    """Under torchrun each process trains on the GPU of its local rank, or on the CPU."""
    if not world.distributed:
        return device
    if device.type == "mps":
        if spec != "auto":
            raise UsageError(
                "device 'mps': torch.distributed has no MPS backend; use device: cpu for several processes"
            )
        return torch.device("cpu")
    if device.type != "cuda":
        return device
    if spec not in ("auto", "cuda"):
        raise UsageError(
            f"device '{spec}': with several processes each one uses the GPU of its local rank; set device: cuda or auto"
        )
    count = torch.cuda.device_count()
    if world.local_rank >= count:
        raise UsageError(
            f"local rank {world.local_rank} has no GPU: this machine has {count}; "
            f"start at most {count} processes per machine, or use device: cpu"
        )
    return torch.device("cuda", world.local_rank)


def check_distributed(config: Config, world_size: int) -> None:
    """What data-parallel training cannot do, refused before any process trains."""
    if world_size <= 1:
        return
    if DATASETS.get(config.data.name).traits.task == "objective":
        raise UsageError(
            f"data '{config.data.name}' is a toy objective with no examples to split; run it in one process"
        )
    if config.data.batch_size < world_size:
        raise UsageError(
            f"data.batch_size {config.data.batch_size} is smaller than the {world_size} processes; it is the "
            f"global batch, split over them: use at least {world_size}"
        )
    if OPTIMIZERS.get(config.optimizer.name).traits.second_order:
        raise UsageError(
            f"optimizer '{config.optimizer.name}' differentiates the gradient again, which DDP cannot; "
            "run it in one process"
        )


def check_batches(num_examples: int, batch_size: int, world_size: int) -> None:
    """Every rank needs rows in every batch, the epoch's short last one included."""
    last = num_examples % batch_size
    if world_size > 1 and 0 < last < world_size:
        raise UsageError(
            f"the last batch of each epoch has {last} example(s) ({num_examples} % data.batch_size {batch_size}), "
            f"fewer than the {world_size} processes; choose another data.batch_size or data.train_size"
        )
