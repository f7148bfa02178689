"""Device and precision: what `auto` means here, and clear errors for what this machine lacks."""

from __future__ import annotations

import contextlib

import torch

from dltool.errors import UsageError


def resolve_device(spec: str) -> torch.device:
    """auto -> cuda, then mps, then cpu; an explicit device must exist."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"device '{spec}': no CUDA GPU is available here; use device: auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(
                f"device '{spec}': there are {torch.cuda.device_count()} CUDA devices (cuda:0 .. "
                f"cuda:{torch.cuda.device_count() - 1})"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"device '{spec}': MPS is not available here; use device: auto or cpu")
    return device


def resolve_precision(precision: str, device: torch.device) -> str:
    """auto -> fp32 (the models so far are too small to gain from lower precision); fp16 needs CUDA."""
    if precision == "fp16" and device.type != "cuda":
        raise UsageError(f"precision: fp16 needs a CUDA device (this run is on {device.type}); use bf16 or fp32")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError("precision: bf16 is not supported by this GPU; use fp16 or fp32")
    return "fp32" if precision == "auto" else precision


def autocast(device: torch.device, precision: str):
    """The forward-pass context for a precision (fp32: none)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)
