"""A study's members as Ray tasks, handed out like a process pool's (dltool.study.members.run_in_pool).

Each task trains its member (or population) in a folder of its own on the node that runs it, then
returns the member's Result with its run folders packed (dltool.store.folder_pack), which the driver
unpacks into the study's members/: no shared filesystem is needed, and a task lost with its node leaves
nothing half-written behind; Ray runs it again elsewhere (up to RETRIES times). A member continued from
its checkpoint takes its folder with it. A tuning trial's pruner reports go through a relay on the
driver's node, which alone opens the study's storage.
"""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from dltool.store.folder_pack import pack, unpack
from dltool.store.staging import hidden
from dltool.study.cluster import needs
from dltool.study.members import MemberJob
from dltool.study.populations import PopulationJob
from dltool.train.build import NODE_VARIABLE
from dltool.train.engine import Pruned

RETRIES = 3  # a task whose node is lost runs again on another, at most this many times


@ray.remote(max_retries=RETRIES)
def run_on_node(function, job, sent: bytes | None) -> tuple[Any, bytes]:
    """function(job) in a folder of this node's own; its result and the run folders it made or continued."""
    node = ray.get_runtime_context().get_node_id()
    os.environ[NODE_VARIABLE] = json.dumps({"engine": "ray", "node": node, "ip": ray.util.get_node_ip_address()})
    with tempfile.TemporaryDirectory(prefix="dltool-member-") as folder:
        where = Path(folder)
        if sent is not None:
            unpack(sent, where)
        result = function(moved(job, where))
        return result, pack(sorted(path for path in where.iterdir() if not hidden(path)))


@ray.remote(num_cpus=0)
class WatchRelay:
    """On the driver's node: a tuning trial's reports to its pruner, from whichever node trains it."""

    def ready(self, watch) -> None:
        watch.ready()

    def see(self, watch, record: dict) -> int | None:
        """The step at which the pruner stops the trial, or None."""
        try:
            watch(record)
        except Pruned as pruned:
            return pruned.step
        return None


@dataclass
class RelayedWatch:
    """A member's watch (dltool.study.trials.TrialWatch) seen through the relay."""

    relay: Any
    watch: Any

    def ready(self) -> None:
        ray.get(self.relay.ready.remote(self.watch))

    def __call__(self, record: dict) -> None:
        if not self.watch.wants(record):  # the relay sees only the records the pruner reads: one per epoch
            return
        step = ray.get(self.relay.see.remote(self.watch, record))
        if step is not None:
            raise Pruned(step)


def moved(job, where: Path | None = None, relay: Any = None):
    """The job training in `where` (None: where it is), its watches through `relay` (None: as they are)."""
    if isinstance(job, PopulationJob):
        return PopulationJob(tuple((index, moved(member, where, relay)) for index, member in job.members))
    watch = RelayedWatch(relay, job.watch) if relay is not None and job.watch is not None else job.watch
    return replace(job, runs_dir=where or job.runs_dir, watch=watch)


def runs_dir_of(job) -> Path:
    return job.members[0][1].runs_dir if isinstance(job, PopulationJob) else job.runs_dir


class RayPool:
    """As a process pool for run_in_pool: submit(run_job, job) is a Future of the job's Result, the job's folders
    unpacked into the study before it is done."""

    def __init__(self) -> None:
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        self.relay = WatchRelay.options(scheduling_strategy=here).remote()
        self.running: dict[Future, Any] = {}

    def submit(self, function, job) -> Future:
        first = job.members[0][1] if isinstance(job, PopulationJob) else job
        sent = pack([job.runs_dir / job.resume]) if isinstance(job, MemberJob) and job.resume else None
        ref = run_on_node.options(**needs(first.config)).remote(function, moved(job, relay=self.relay), sent)
        done: Future = Future()
        self.running[done] = ref
        ref.future().add_done_callback(lambda task: self._received(task, job, done))
        return done

    def _received(self, task: Future, job, done: Future) -> None:
        self.running.pop(done, None)
        try:
            result, packed = task.result()
            unpack(packed, runs_dir_of(job))
        except ray.exceptions.TaskCancelledError:  # Ctrl-C: not failed, so the same command runs it again
            done.set_result(job.failed("stopped before it ended", "interrupted", 130))
            return
        except BaseException as exc:  # the task failed, or its folders could not be written here
            done.set_exception(exc)
            return
        done.set_result(result)

    def stop_running(self) -> None:
        """Ctrl-C: the members running on the cluster are cancelled. A member that saves its checkpoint on the
        interrupt comes back `interrupted` with its folder; one stopped before it had a folder, without one."""
        for ref in list(self.running.values()):
            ray.cancel(ref)
