"""The status of a run, as status.json records it (and `crashed` and `damaged`, which only readers say).
Light on purpose (no imports): the command line lists these choices before anything heavy is loaded."""

from enum import Enum


class RunStatus(str, Enum):
    running = "running"
    completed = "completed"
    failed = "failed"
    diverged = "diverged"  # the loss became non-finite; status.json records the step
    interrupted = "interrupted"  # SIGINT or SIGTERM: stopped after a step, with a checkpoint
    pruned = "pruned"  # a tuning trial its study stopped early (the median pruner): a result, not a failure
    crashed = "crashed"  # shown for a `running` run whose process is gone; never written
    damaged = "damaged"  # shown for a run whose status.json or summary.json cannot be read; never written


# What a run's process writes into status.json and summary.json
WRITTEN_STATUSES = ("running", "completed", "failed", "diverged", "interrupted", "pruned")
