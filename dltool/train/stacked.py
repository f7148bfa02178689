"""The population models' forward pass over stacked members (train/population.py): each layer of every
member in one batched call on [members, batch, ...] tensors, with parameters [members, ...].

Written layer by layer rather than with torch.func.vmap so that each member's loss and gradient equal its
lone run's bit for bit: the batched kernels here add in the same order as the lone ones, except for
nn.Linear's weight gradient, where a batched matmul of the transposed gradient adds in another order than
torch's own (grad^T @ x); that one is a matmul per member (measured: a batched one moved RMSprop's test
loss on Fashion-MNIST by 25% after 3 epochs, as its update amplifies the last bit of tiny gradients).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dltool.models.linear import ScratchLinear
from dltool.models.mlp import ScratchMLP
from dltool.models.scratch_ops import relu


class StackedLinear(torch.autograd.Function):
    """nn.Linear of every member: x [M, B, in], weight [M, out, in], bias [M, out]."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor, Tensor]:
        x, weight = ctx.saved_tensors
        grad_weight = torch.stack([torch.mm(g.t(), rows) for g, rows in zip(grad, x)])  # as torch's, member by member
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None  # the data's is never needed
        return grad_x, grad_weight, grad.sum(1)


def stacked_forward(module: nn.Module, params: dict[str, Tensor], x: Tensor, prefix: str = "") -> Tensor:
    """The stacked members' outputs [M, B, ...] of `module`'s architecture, with `params` (its parameter
    names -> [M, ...] tensors) in place of its own."""
    if isinstance(module, nn.Linear):
        return StackedLinear.apply(x, params[f"{prefix}weight"], params[f"{prefix}bias"])
    if isinstance(module, ScratchLinear):  # the notes' X @ W + b
        return torch.matmul(x.flatten(2), params[f"{prefix}weight"]) + params[f"{prefix}bias"].unsqueeze(1)
    if isinstance(module, nn.Flatten):
        return x.flatten(2)
    if isinstance(module, nn.ReLU):
        return torch.relu(x)
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            x = stacked_forward(child, params, x, f"{prefix}{name}.")
        return x
    if isinstance(module, ScratchMLP):  # as its forward: relu between the layers
        last = len(module.layers) - 1
        for index, layer in enumerate(module.layers):
            x = stacked_forward(layer, params, x, f"{prefix}layers.{index}.")
            x = relu(x) if index < last else x
        return x
    raise TypeError(f"{type(module).__name__} has no stacked forward (a population model is linreg, softmax or mlp)")
