"""Synchronized batch norm (model.sync_bn): batch statistics over the global batch, every rank's part.

On CUDA torch's nn.SyncBatchNorm replaces nn.BatchNorm. It refuses CPU tensors, so on CPU (gloo) the
torch impl gets GlobalBatchNorm below; the scratch BatchNorm keeps the notes' formula in both cases and
only swaps its statistics for `global_moments`. One process is its own global batch: nothing changes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from dltool.errors import UsageError
from dltool.models.batchnorm import BatchNorm, batch_norm


class SumOverRanks(torch.autograd.Function):
    """All-reduce sum whose backward all-reduces the gradients (as torch.distributed.nn's, now deprecated)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        torch.distributed.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        torch.distributed.all_reduce(total)
        return total


def global_moments(X: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per-channel mean and biased variance over every rank's X, and how many values each is over.

    The all-reduce is differentiable (its backward sums the gradients over ranks), so each rank's
    gradient includes how its values moved the other ranks' normalization, as one process's would.
    Two passes (mean, then squared deviations) round like local_moments' X.mean; sums are in float32.
    """
    all_reduce = SumOverRanks.apply
    shape = [1 if dim in dims else size for dim, size in enumerate(X.shape)]  # (1, C) or (1, C, 1, 1)
    local_count = X.new_tensor([X.numel() // X.shape[1]], dtype=torch.float32)
    packed = all_reduce(torch.cat([X.float().sum(dim=dims).flatten(), local_count]))
    m = int(packed[-1])
    mean = (packed[:-1] / m).view(shape).to(X.dtype)
    squares = all_reduce(((X - mean) ** 2).float().sum(dim=dims).flatten())
    return mean, (squares / m).view(shape).to(X.dtype), m


class GlobalBatchNorm(_BatchNorm):
    """nn.BatchNorm1d/2d with global statistics on CPU: the same parameters, buffers and updates
    (running statistics with momentum 0.1 and the unbiased variance, num_batches_tracked), so its
    state dict is an nn.BatchNorm's."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() not in (2, 4):
            raise ValueError(f"expected 2-D or 4-D input, got {input.dim()}-D")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(X)  # the running statistics: nothing to synchronize
        self._check_input_dim(X)
        Y, running_mean, running_var = batch_norm(
            X,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            training=True,
            eps=self.eps,
            momentum=1.0 - self.momentum,
            moments=global_moments,
            unbiased_moving_var=True,  # as nn.BatchNorm's running variance
        )  # fmt: skip  (batch_norm's momentum is the notes' convention: the weight of the old value)
        with torch.no_grad():
            self.running_mean.copy_(running_mean)
            self.running_var.copy_(running_var)
            self.num_batches_tracked.add_(1)
        return Y


def to_global_batch_norm(module: nn.Module) -> nn.Module:
    """`module` with every nn.BatchNorm replaced by a GlobalBatchNorm holding the same state."""
    if isinstance(module, _BatchNorm):
        layer = GlobalBatchNorm(
            module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats
        )
        layer.load_state_dict(module.state_dict())
        return layer
    for name, child in module.named_children():
        module._modules[name] = to_global_batch_norm(child)
    return module


def synchronize_batch_norm(model: nn.Module, model_name: str, device: torch.device, distributed: bool) -> nn.Module:
    """model.sync_bn: every BatchNorm of `model` (either impl) normalizes with global batch statistics."""
    layers = [m for m in model.modules() if isinstance(m, (BatchNorm, _BatchNorm))]
    if not layers:
        raise UsageError(f"model.sync_bn: model '{model_name}' has no BatchNorm layers to synchronize; remove sync_bn")
    if not distributed:
        return model
    for layer in layers:
        if isinstance(layer, BatchNorm):
            layer.moments = global_moments
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return to_global_batch_norm(model)
