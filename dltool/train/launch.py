"""`dltool train --nproc N`: torchrun on this machine, through PyTorch's own launcher API.

It is `torchrun --standalone --nproc-per-node N -m dltool train ...` with three additions: the other
ranks' output goes to log files, so progress and the outcome are printed once (by rank 0); the exit
code is rank 0's; and a run whose rank 0 died without recording its end (killed) is marked failed.
Rank 0 tells the launcher its run folder and exit code through the file named by DLTOOL_LAUNCH_INFO.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

from dltool.config import load_config
from dltool.errors import UsageError
from dltool.files import read_json
from dltool.store.run import Run
from dltool.train.launch_info import LAUNCH_INFO, tell_launcher
from dltool.train.resume import resumable_run, resume_command


def announce_run(run: Run) -> None:
    tell_launcher(run=str(run.folder.resolve()))


def check_launch(nproc: int, config_path: Path | None, overrides: list[str], resume: str | None, runs_dir) -> None:
    """The input errors every rank would meet, found once, before any rank starts."""
    # torch only for these checks: the launcher itself (the process that starts the ranks) needs none
    import torch

    from dltool.train.distributed import check_distributed  # imports torch

    config = load_config(config_path, overrides) if resume is None else resumable_run(resume, runs_dir)[1]
    check_distributed(config, nproc)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if config.device in ("auto", "cuda") and gpus and nproc > gpus:
        raise UsageError(
            f"--nproc {nproc}: this machine has {gpus} GPU(s), one per process; use --nproc {gpus} or --device cpu"
        )


def launch(nproc: int, worker_args: list[str]) -> int:
    """Run `dltool <worker_args>` in nproc processes with DDP; returns the exit code for the user."""
    # torch's launcher: imported here for the same reason as torch in check_launch
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    silence_agent_logs()  # what they would say (a rank failed, exit codes), the outcome says for the user
    workdir = Path(tempfile.mkdtemp(prefix="dltool-ranks-"))
    info = workdir / "launch.json"
    os.environ[LAUNCH_INFO] = str(info)
    # torchrun's default: the ranks share the cores instead of each starting one thread per core
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    other_ranks = {rank: Std.ALL for rank in range(1, nproc)}
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=str(uuid.uuid4()),
        rdzv_backend="c10d", rdzv_endpoint="localhost:0",  # torchrun --standalone: a store on a free port
        max_restarts=0, monitor_interval=0.1,
        logs_specs=DefaultLogsSpecs(log_dir=str(workdir / "logs"), redirects=other_ranks),
    )  # fmt: skip
    failures: dict = {}
    try:
        elastic_launch(config, sys.executable)("-m", "dltool", *worker_args)
    except ChildFailedError as exc:
        failures = exc.failures
    except SignalException:
        pass  # the agent gave the ranks the same signal and waited for them: rank 0 recorded the stop
    return finish(read_json(info) or {}, failures, workdir)


def finish(info: dict, failures: dict, workdir: Path) -> int:
    """Rank 0's exit code; a run rank 0 left `running` (it was killed) is marked failed."""
    for rank, failure in sorted(failures.items()):
        # SIGTERM is torchrun's own: it stops the other ranks once one has ended
        if rank != 0 and failure.exitcode < 0 and -failure.exitcode != signal.SIGTERM:
            print(f"rank {rank} (pid {failure.pid}) was killed by {signal_name(-failure.exitcode)}", file=sys.stderr)
    code = info.get("exit_code")
    if code is None:  # rank 0 never reached its exit: it was killed, or died before it could say
        rank0 = failures.get(0)
        why = (
            f"was killed by {signal_name(-rank0.exitcode)}"
            if rank0 and rank0.exitcode < 0
            else f"exited with code {rank0.exitcode}"
            if rank0
            else "ended without recording an outcome"
        )
        message = f"error: rank 0 {why}"
        if info.get("run"):
            run = Run(Path(info["run"]))
            if run.fail_if_running(f"rank 0 {why}"):
                message += f"; run {run.id} is marked failed (resume it with: {resume_command(run)})"
        print(message, file=sys.stderr)
        code = 1
    logs = workdir / "logs"
    if code not in (0, 2) and any(path.stat().st_size for path in logs.rglob("*.log")):
        print(f"the other ranks' output is in {logs}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def silence_agent_logs() -> None:
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
