"""The notes' hand-written pieces: parameters as plain tensors, ReLU, a stable softmax cross-entropy."""

from __future__ import annotations

import torch
from torch import nn


def normal_parameter(*shape: int, generator: torch.Generator, std: float = 0.01) -> nn.Parameter:
    """N(0, std) init as in the notes; drawn from `generator` so both impls start equal."""
    return nn.Parameter(torch.normal(0.0, std, shape, generator=generator))


def zeros_parameter(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.zeros(shape))


def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.maximum(x, torch.zeros((), dtype=x.dtype, device=x.device))


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of -log softmax(o)[y] = log sum_k exp(o_k) - o_y, the log-sum computed as
    m + log sum_k exp(o_k - m), m = max_k o_k.

    The naive exp(o) overflows for logits above ~88 in float32 (the notes' warning); shifting by the
    row maximum keeps every exponent <= 0. torch.logsumexp is that shifted sum in one op, and only the
    label's logit is subtracted: the same formula as max, subtract, exp, sum, log and the whole
    log-softmax written out, at half their cost forward and backward (softmax regression's step is a
    few tiny ops, so the loss was a third of it).
    """
    return (logits.logsumexp(dim=1) - logits.gather(1, labels.view(-1, 1)).squeeze(1)).mean()


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The notes' (y_hat - y)^2 / 2, averaged over the batch."""
    return ((y_hat - y.view(y_hat.shape)) ** 2 / 2).mean()
