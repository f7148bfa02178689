"""Minibatches sliced from a seeded per-epoch permutation, on the data's device.

The order comes from one torch.Generator whose state is saved in checkpoints, so a resumed run
draws the same batches it would have drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


class EpochBatches:
    """`drop_single_last`: where an epoch would end on a batch of one example, that example is left out of
    the epoch (a model with batch norm: one example has no batch variance, and torch refuses it), as
    torch's DataLoader(drop_last=True) leaves out a short last batch; any other last batch is kept."""

    def __init__(self, num_examples: int, batch_size: int, seed: int, drop_single_last: bool = False) -> None:
        self.num_examples = num_examples
        self.batch_size = batch_size
        single_last = num_examples > 1 and num_examples % batch_size == 1
        self.used = num_examples - 1 if drop_single_last and single_last else num_examples
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch_start_state = self.generator.get_state()

    def __len__(self) -> int:
        return -(-self.used // self.batch_size)

    def epoch(self, device: torch.device, skip: int = 0) -> Iterator[torch.Tensor]:
        """Index tensors of one epoch's batches, starting after `skip` batches (for resume)."""
        self.epoch_start_state = self.generator.get_state()
        order = torch.randperm(self.num_examples, generator=self.generator).to(device)
        for start in range(skip * self.batch_size, self.used, self.batch_size):
            yield order[start : min(start + self.batch_size, self.used)]

    def state_dict(self, mid_epoch: bool = False) -> dict:
        """Mid-epoch, the state that redraws the current epoch's order; else the next epoch's."""
        state = self.epoch_start_state if mid_epoch else self.generator.get_state()
        return {"generator": state.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
