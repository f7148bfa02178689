"""`compare-optimizers --schedules constant,cosine,warmup_cosine,step`: the learning-rate schedule as one
more axis of a comparison. Each optimizer setting runs under each schedule as a contender of its own
(tuned on its own with --tune), its schedule named in its label. Cosine and its warm-up variant anneal
per optimizer step; `step` is the notes' piecewise-constant schedule, the lr cut tenfold at half of the
run and again at three quarters."""

from __future__ import annotations

from dataclasses import replace

from dltool.errors import UsageError, did_you_mean
from dltool.study.problems import Variant

SCHEDULES = ("constant", "cosine", "warmup_cosine", "step")


def schedule_overrides(name: str, epochs: int) -> tuple[str, ...]:
    """The --set lines that put a member under the schedule `name`."""
    if name == "constant":
        return ("schedule.name=constant",)
    if name in ("cosine", "warmup_cosine"):
        return (f"schedule.name={name}", "schedule.unit=step")
    cuts = sorted({max(1, round(epochs * share)) for share in (0.5, 0.75)} - {epochs}) or [max(1, epochs - 1)]
    return ("schedule.name=piecewise", f"schedule.milestones=[{','.join(map(str, cuts))}]", "schedule.factor=0.1")


def check_schedules(names: tuple[str, ...]) -> None:
    for name in names:
        if name not in SCHEDULES:
            raise UsageError(
                f"--schedules '{name}' is not a schedule{did_you_mean(name, list(SCHEDULES))}; "
                f"valid: {', '.join(SCHEDULES)}"
            )


def under_schedules(variants: list[Variant], names: tuple[str, ...], epochs: int) -> list[Variant]:
    """Each variant once per schedule (the variants as they are when no --schedules is given)."""
    if not names:
        return variants
    return [
        replace(variant, extra=(*variant.extra, *schedule_overrides(name, epochs)), note=_noted(variant.note, name))
        for variant in variants
        for name in names
    ]


def _noted(note: str, schedule: str) -> str:
    return f"{note}, {schedule}" if note else schedule
