"""Which runs can be resumed, and the command that resumes one.

Light on purpose (no torch): the `--nproc` launcher checks a resume before it starts any process,
and the terminal views show the command. dltool.train.run.resume() does the resuming itself.
"""

from __future__ import annotations

from pathlib import Path

from dltool.config import Config, load_config
from dltool.errors import UsageError
from dltool.files import read_json
from dltool.store.items import resolve_run
from dltool.store.run import RUN_FILES, Run, now_iso, shown_status


def resumable_run(run_id: str, runs_dir: Path | None) -> tuple[Run, Config]:
    """The run `run_id` names and its saved config; a UsageError unless it ended without completing
    and its status.json and config.yaml are sound."""
    run = resolve_run(runs_dir, run_id, "dltool train --resume")  # a study id is refused, latest is no member
    status, damage = run.read_status()
    if damage is not None:
        raise UsageError(f"run '{run.id}' cannot be resumed: {damage}; {fresh_start(run)}")
    shown = shown_status(status)
    if shown not in ("interrupted", "failed", "crashed"):
        raise UsageError(f"run '{run.id}' is {shown}; only interrupted, failed or crashed runs can be resumed")
    if not run.path(RUN_FILES.config).is_file():
        raise UsageError(f"run '{run.id}' cannot be resumed: its {RUN_FILES.config} is missing")
    try:
        return run, load_config(run.path(RUN_FILES.config))
    except UsageError as exc:
        raise UsageError(f"run '{run.id}' cannot be resumed: {exc}") from None


def fresh_start(run: Run) -> str:
    """How to run it again from the start instead."""
    return f"run its config again instead: dltool train {run.path(RUN_FILES.config)}"


def resume_command(run: Run) -> str:
    """What continues `run`: with the processes it had, when it had several."""
    distributed = run.status().get("distributed")
    command = f"dltool train --resume {run.id}"
    if not distributed:
        return command
    if len({rank["host"] for rank in distributed["ranks"]}) > 1:
        return f"torchrun ... -m {command.removeprefix('dltool ')} (on every machine, as it was started)"
    return f"{command} --nproc {distributed['world_size']}"


def started_threads(run: Run) -> int | None:
    """The thread count the run started with (env.json); None where it is not recorded."""
    count = (read_json(run.path(RUN_FILES.env)) or {}).get("torch_threads")
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 1 else None


def give_up(run: Run) -> None:
    """A crashed run (`running`, its process gone) that its study will not continue (it has no checkpoint, or
    another run of its member is kept): marked failed, saying why, rather than left `running` for ever."""
    if shown_status(run.status()) == "crashed":
        run.set_status("failed", ended=now_iso(), error=GAVE_UP)


GAVE_UP = "its process died; its study continued its member in another run"
