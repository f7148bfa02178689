"""The notes' hand-written batch normalization, and what lets the conv nets swap it for torch's.

The conv nets (lenet_bn, resnet18, densenet) differ between impls only in their BatchNorm layers;
`seeded_init_` and `load_state_across_impls_` keep the two builds interchangeable: the same seed gives
the same starting weights, and a trained state moves from one impl to the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

# Scratch name -> torch name, so a state dict converts by renaming keys (shapes are the same, (C,)).
TORCH_NAMES = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_var": "running_var"}
SCRATCH_NAMES = {v: k for k, v in TORCH_NAMES.items()}


def batch_norm(
    X: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    moving_mean: torch.Tensor,
    moving_var: torch.Tensor,
    *,
    training: bool,
    eps: float,
    momentum: float,
    moments: Callable | None = None,
    unbiased_moving_var: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Y = gamma * (X - mu) / sqrt(var + eps) + beta, and the updated (moving_mean, moving_var).

    Training: mu and var are the batch statistics, per feature over N for 2-D input, per channel over
    N*H*W for 4-D input; moving = momentum * moving + (1 - momentum) * batch statistic.
    Prediction: mu and var are the moving averages, which are returned unchanged.

    The moving variance is updated with the biased batch variance `((X - mean)**2).mean()`, as the notes
    write it; nn.BatchNorm uses the unbiased one, a factor m / (m - 1) in each update's batch term:
    `unbiased_moving_var=True`, for the layers that must be nn.BatchNorm (models/sync_batchnorm.py).

    `moments(X, dims) -> (mean, biased var, m)` computes the statistics: over this process's batch by
    default, over every rank's for synchronized batch norm (models/sync_batchnorm.py).
    """
    dims = (0,) if X.dim() == 2 else (0, 2, 3)
    shape = (1, -1) if X.dim() == 2 else (1, -1, 1, 1)  # parameters are (C,): broadcast over the rest
    if not training:
        X_hat = (X - moving_mean.view(shape)) / torch.sqrt(moving_var.view(shape) + eps)
        return gamma.view(shape) * X_hat + beta.view(shape), moving_mean, moving_var
    mean, var, m = (moments or local_moments)(X, dims)
    if m < 2:  # Same refusal as torch: one value per channel has no variance to normalize by.
        raise ValueError(f"BatchNorm in training needs more than 1 value per channel, got input {tuple(X.shape)}")
    X_hat = (X - mean) / torch.sqrt(var + eps)
    with torch.no_grad():
        batch_var = var.flatten() * (m / (m - 1)) if unbiased_moving_var else var.flatten()
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean.flatten()
        moving_var = momentum * moving_var + (1.0 - momentum) * batch_var
    return gamma.view(shape) * X_hat + beta.view(shape), moving_mean, moving_var


def local_moments(X: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per-channel mean and biased variance of this batch, and how many values each is over."""
    mean = X.mean(dim=dims, keepdim=True)
    return mean, ((X - mean) ** 2).mean(dim=dims, keepdim=True), X.numel() // X.shape[1]


class BatchNorm(nn.Module):
    """The notes' BatchNorm(num_features, num_dims): num_dims 2 after a linear layer, 4 after a conv.

    gamma, beta, moving_mean and moving_var have shape (C,) (the notes use (1, C) or (1, C, 1, 1)),
    so the state dict has the shapes of nn.BatchNorm's. momentum 0.9 is the notes' convention and equals
    torch's momentum=0.1. moving_var starts at 1 like torch's running_var (the notes start it at 0,
    which makes a never-trained model in eval mode divide by sqrt(eps)).
    """

    def __init__(self, num_features: int, num_dims: int, eps: float = 1e-5, momentum: float = 0.9) -> None:
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (after a linear layer) or 4 (after a conv), got {num_dims}")
        self.num_dims, self.eps, self.momentum = num_dims, eps, momentum
        self.moments = local_moments  # sync_batchnorm.synchronize swaps in the all-rank statistics
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        # Buffers, not plain attributes: they follow .to(device) and are saved in the state dict.
        self.register_buffer("moving_mean", torch.zeros(num_features))
        self.register_buffer("moving_var", torch.ones(num_features))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.dim() != self.num_dims:
            raise ValueError(f"BatchNorm(num_dims={self.num_dims}) got a {X.dim()}-D input")
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            training=self.training, eps=self.eps, momentum=self.momentum, moments=self.moments,
        )  # fmt: skip
        if self.training:
            self.moving_mean.copy_(moving_mean)
            self.moving_var.copy_(moving_var)
        return Y

    def extra_repr(self) -> str:
        sync = ", synchronized" if self.moments is not local_moments else ""
        return f"{self.gamma.numel()}, num_dims={self.num_dims}, eps={self.eps}, momentum={self.momentum}{sync}"


def batch_norm_layer(impl: str, num_features: int, num_dims: int = 4) -> nn.Module:
    """The one place the conv nets' impls differ."""
    if impl == "scratch":
        return BatchNorm(num_features, num_dims)
    return nn.BatchNorm2d(num_features) if num_dims == 4 else nn.BatchNorm1d(num_features)


def seeded_init_(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Redraw every Conv2d and Linear exactly as their reset_parameters does, but from `generator`.

    Torch's default init draws from the global RNG; drawing from the run's generator instead, in module
    order, makes the result depend on the seed alone, and gives the scratch and torch builds (which have
    the same convs and linears in the same order) the same starting weights.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                    bound = 1 / math.sqrt(fan_in)
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return model


def load_state_across_impls_(dst: nn.Module, src: nn.Module) -> nn.Module:
    """Load `src`'s parameters and BN statistics into `dst`, a build of the same model in either impl.

    BN keys are renamed when the impls differ (gamma <-> weight, moving_mean <-> running_mean, ...).
    torch's num_batches_tracked has no scratch counterpart; it only matters for momentum=None, so a
    torch dst loaded from a scratch src keeps its own.
    """
    state = src.state_dict()
    out = {}
    for prefix, module in dst.named_modules():
        p = f"{prefix}." if prefix else ""
        is_bn = isinstance(module, (BatchNorm, nn.modules.batchnorm._BatchNorm))
        local = dict(module.named_parameters(recurse=False)) | dict(module.named_buffers(recurse=False))
        for name, tensor in local.items():
            other = p + (TORCH_NAMES | SCRATCH_NAMES).get(name, name)
            if p + name in state:
                out[p + name] = state[p + name]
            elif is_bn and other in state:
                out[p + name] = state[other]
            elif is_bn and name == "num_batches_tracked":
                out[p + name] = tensor
            else:
                raise KeyError(f"{p + name} has no counterpart in the source model")
    dst.load_state_dict(out)
    return dst
