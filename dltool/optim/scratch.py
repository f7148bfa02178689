"""The notes' six optimizers (seed 004), and Newton's method for the toy objectives, written by hand
as torch.optim.Optimizer subclasses.

Each follows torch/optim's layout: argument checks in __init__, state created lazily under named
keys, the update in a pure function over lists of tensors using torch._foreach_* (one kernel per
operation for all parameters, not one Python loop iteration per tensor). Because they are real
Optimizers, state_dict, param_groups and LR schedulers work as with torch.optim.

Hyperparameters are required keyword arguments: their defaults are written once, in the options
models of optim/factory.py (the config schema).

Weight decay, where set, is L2 added to the gradient (g <- g + wd * x), as torch.optim does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def _check(name: str, value: float, low: float, high: float = float("inf"), low_open: bool = False) -> None:
    ok = (value > low if low_open else value >= low) and value < high
    if not ok:
        raise ValueError(f"invalid {name}: {value}")


def undecorated(method):
    """torch.optim.Optimizer's method without its torch._disable_dynamo wrapper (functools.wraps keeps the
    function as __wrapped__), or the method itself where a torch version has no wrapper."""
    return getattr(method, "__wrapped__", method)


class ScratchOptimizer(torch.optim.Optimizer):
    """Shared plumbing: gather the params with gradients and their state, call `_update`."""

    # torch.optim.Optimizer wraps these four in torch._disable_dynamo, whose first call imports
    # torch._dynamo (1.1 s here: sympy, FSDP) only to mark them as not to be compiled. dltool never
    # compiles an optimizer, so its own optimizers take the plain methods: a scratch run starts 1.1 s sooner.
    add_param_group = undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = undecorated(torch.optim.Optimizer.load_state_dict)

    state_keys: tuple[str, ...] = ()
    uses_step = False  # only Adam's bias correction reads t; every optimizer counts it, as torch's do
    second_order = False  # Newton: differentiates the gradient again (the registry's trait says so)

    def __init__(self, params, defaults: dict) -> None:
        _check("learning rate", defaults["lr"], 0.0, low_open=True)
        _check("weight_decay", defaults["weight_decay"], 0.0)
        super().__init__(params, defaults)

    def _gather(self, group: dict) -> tuple[list[Tensor], list[Tensor], dict[str, list[Tensor]], list[Tensor]]:
        params, grads, steps = [], [], []
        states: dict[str, list[Tensor]] = {key: [] for key in self.state_keys}
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:  # lazily, on the first step
                state["step"] = torch.tensor(0.0)
                for key in self.state_keys:
                    state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            steps.append(state["step"])
            for key in self.state_keys:
                states[key].append(state[key])
        return params, grads, states, steps

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states, steps = self._gather(group)
            if not params:
                continue
            torch._foreach_add_(steps, 1.0)  # one kernel for all counts, not one op per tensor
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            if not self.uses_step:
                self._update(group, params, grads, states, None)
                continue
            # Parameters that got their first gradient late have their own (smaller) step count;
            # update each count's parameters together so Adam's bias correction uses the right t.
            by_step: dict[float, list[int]] = {}
            for i, count in enumerate(torch.stack(steps).tolist()):  # one read-back, not one per tensor
                by_step.setdefault(count, []).append(i)
            for count, idx in by_step.items():

                def pick(xs: list, idx: list[int] = idx) -> list:
                    return xs if len(idx) == len(xs) else [xs[i] for i in idx]

                self._update(group, pick(params), pick(grads), {k: pick(v) for k, v in states.items()}, count)
        return loss

    def _update(self, group, params, grads, states, step) -> None:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} must define _update")


class SGD(ScratchOptimizer):
    """x <- x - lr * g"""

    def __init__(self, params, *, lr: float, weight_decay: float) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        torch._foreach_add_(params, grads, alpha=-group["lr"])


class Momentum(ScratchOptimizer):
    """v <- momentum * v + lr * g;  x <- x - v"""

    state_keys = ("velocity",)

    def __init__(self, params, *, lr: float, momentum: float, weight_decay: float) -> None:
        _check("momentum", momentum, 0.0, 1.0)
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        velocity = states["velocity"]
        torch._foreach_mul_(velocity, group["momentum"])
        torch._foreach_add_(velocity, grads, alpha=group["lr"])
        torch._foreach_sub_(params, velocity)


class AdaGrad(ScratchOptimizer):
    """s <- s + g^2;  x <- x - lr * g / sqrt(s + eps)   (eps inside the root, as in the notes)"""

    state_keys = ("sum_sq",)

    def __init__(self, params, *, lr: float, eps: float, weight_decay: float) -> None:
        _check("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        sum_sq = states["sum_sq"]
        torch._foreach_addcmul_(sum_sq, grads, grads)
        denom = torch._foreach_add(sum_sq, group["eps"])
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])


class RMSprop(ScratchOptimizer):
    """s <- gamma * s + (1 - gamma) * g^2;  x <- x - lr * g / sqrt(s + eps)   (eps inside the root)"""

    state_keys = ("mean_sq",)

    def __init__(self, params, *, lr: float, gamma: float, eps: float, weight_decay: float) -> None:
        _check("gamma", gamma, 0.0, 1.0)
        _check("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, gamma=gamma, eps=eps, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        mean_sq, gamma = states["mean_sq"], group["gamma"]
        torch._foreach_mul_(mean_sq, gamma)
        torch._foreach_addcmul_(mean_sq, grads, grads, value=1 - gamma)
        denom = torch._foreach_add(mean_sq, group["eps"])
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])


class AdaDelta(ScratchOptimizer):
    """s <- rho * s + (1 - rho) * g^2;  g' <- sqrt((dx + eps) / (s + eps)) * g;
    x <- x - lr * g';  dx <- rho * dx + (1 - rho) * g'^2.   The notes have no lr (lr = 1)."""

    state_keys = ("mean_sq", "mean_dx_sq")

    def __init__(self, params, *, lr: float, rho: float, eps: float, weight_decay: float) -> None:
        _check("rho", rho, 0.0, 1.0)
        _check("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        mean_sq, mean_dx_sq = states["mean_sq"], states["mean_dx_sq"]
        rho, eps = group["rho"], group["eps"]
        torch._foreach_mul_(mean_sq, rho)
        torch._foreach_addcmul_(mean_sq, grads, grads, value=1 - rho)
        # sqrt(dx + eps) / sqrt(s + eps) * g in two temporaries, the rest in place (memory-bound at 11 M parameters)
        root = torch._foreach_add(mean_sq, eps)
        torch._foreach_sqrt_(root)
        delta = torch._foreach_add(mean_dx_sq, eps)
        torch._foreach_sqrt_(delta)
        torch._foreach_div_(delta, root)
        torch._foreach_mul_(delta, grads)
        torch._foreach_add_(params, delta, alpha=-group["lr"])
        torch._foreach_mul_(mean_dx_sq, rho)
        torch._foreach_addcmul_(mean_dx_sq, delta, delta, value=1 - rho)


class Adam(ScratchOptimizer):
    """v <- b1 * v + (1 - b1) * g;  s <- b2 * s + (1 - b2) * g^2;  v^ = v / (1 - b1^t), s^ = s / (1 - b2^t);
    x <- x - lr * v^ / (sqrt(s^) + eps).   t counts steps (the notes' listing bumps it per tensor)."""

    state_keys = ("exp_avg", "exp_avg_sq")
    uses_step = True

    def __init__(self, params, *, lr: float, betas: Sequence[float], eps: float, weight_decay: float) -> None:
        beta1, beta2 = betas
        _check("beta1", beta1, 0.0, 1.0)
        _check("beta2", beta2, 0.0, 1.0)
        _check("eps", eps, 0.0)
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step) -> None:
        exp_avg, exp_avg_sq = states["exp_avg"], states["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sq, beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, value=1 - beta2)
        correction1 = 1 - beta1**step
        correction2 = 1 - beta2**step
        denom = torch._foreach_sqrt(exp_avg_sq)
        torch._foreach_div_(denom, correction2**0.5)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_addcdiv_(params, exp_avg, denom, value=-group["lr"] / correction1)


class Newton(ScratchOptimizer):
    """x <- x - lr * H^-1 g, H the Hessian of the loss (the notes' Newton's method, seeds 000/001).

    H comes from autograd, differentiating the gradient once more, so the engine runs
    backward(create_graph=True) for optimizers with `second_order`. H is dense (n² entries per
    tensor): this is for the toy objectives, not for networks.
    """

    second_order = True
    max_numel = 64

    def __init__(self, params, *, lr: float) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=0.0))

    def _update(self, group, params, grads, states, step) -> None:
        for p, g in zip(params, grads):
            if p.numel() > self.max_numel:
                raise ValueError(
                    f"newton builds the dense Hessian: {p.numel()} parameters in one tensor is too many "
                    f"(at most {self.max_numel}); it is meant for the toy objectives"
                )
            if g.grad_fn is None:
                raise ValueError("newton needs the gradient's graph: call backward(create_graph=True)")
            with torch.enable_grad():  # step() runs under no_grad; the Hessian rows need g's graph
                flat = g.reshape(-1)
                rows = [torch.autograd.grad(flat[i], p, retain_graph=True)[0].reshape(-1) for i in range(flat.numel())]
            direction = torch.linalg.solve(torch.stack(rows), flat.detach())
            p.sub_(direction.view_as(p), alpha=group["lr"])
