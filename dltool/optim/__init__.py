"""Optimizers (name x impl) and LR schedules; importing this package registers them."""

from dltool.optim import factory, schedules  # noqa: F401
from dltool.optim.factory import build_optimizer  # noqa: F401
from dltool.optim.schedules import build_schedule  # noqa: F401
