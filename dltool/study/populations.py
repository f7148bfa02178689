"""A study's members gathered into populations (dltool.train.population): those of a fixed plan that share
a model, data, batch size and steps train as one computation, in this process or one worker; the rest take
the process path. `--engine process` keeps every member on its own; study.json says how each trained.

Members with one key are split into as many populations as there are member processes (--jobs), so that
every core trains, and further where a population would not fit in memory: each member is reckoned at
4 bytes × (10 × its parameters + 4 × a batch's activations), for its parameters, gradient, their stacked
copies, up to two optimizer states and a checkpoint's copy, and the activations forward and backward; a
population takes at most a quarter of the memory the machine has available when the study starts.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from typing import NamedTuple

from dltool.config import Config
from dltool.registry import DATASETS
from dltool.store.study import StudyFolder
from dltool.study.members import MemberJob, Result, Work
from dltool.study.startup import STARTUP_TRIALS
from dltool.study.trials import TrialWork
from dltool.train.population import population_key, train_population

MEMORY_SHARE = 4  # a population takes at most 1/MEMORY_SHARE of the available memory


class PopulationJob(NamedTuple):
    """Members that train as one population: (index in study.json, job) each."""

    members: tuple[tuple[int, MemberJob], ...]

    @property
    def label(self) -> str:
        return f"a population of {len(self.members)} members ({self.members[0][1].label}, ...)"

    def run(self, quiet: bool = True) -> PopulationResult:
        return run_population(self)

    def failed(self, why: str, status: str = "failed", code: int = 1) -> PopulationResult:
        """Failed before its members had folders (its data or a model could not be built), or stopped so."""
        return PopulationResult(
            tuple((index, Result(None, status, code, why, "population")) for index, _ in self.members)
        )


class PopulationResult(NamedTuple):
    """Each member's Result; interrupted if any member was (all stop together)."""

    results: tuple[tuple[int, Result], ...]

    @property
    def status(self) -> str:
        return "interrupted" if any(r.status == "interrupted" for _, r in self.results) else "completed"

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for _, r in self.results if r.status == "interrupted"), default=0)


def run_population(job: PopulationJob) -> PopulationResult:
    """Train a population in this process. Top-level so worker processes can run it."""
    first = job.members[0][1]
    entries = [entry for _, entry in job.members]
    members = train_population([e.config for e in entries], first.runs_dir, first.study, [e.watch for e in entries])
    results = []
    for (index, entry), member in zip(job.members, members):
        if isinstance(member, Exception):  # it never trained: as a member of the process path that fails early
            why = f"{type(member).__name__}: {member}"
            print(f"warning: {entry.label} failed: {why}", file=sys.stderr)
            results.append((index, Result(None, "failed", 1, why, "population")))
            continue
        error = member.extra.get("error") if member.status == "failed" else None
        results.append((index, Result(member.run.id, member.status, member.exit_code, error, "population")))
    return PopulationResult(tuple(results))


class GroupedWork:
    """A fixed plan's members with the population-ready ones gathered: populations first, then the rest."""

    fixed = True

    def __init__(self, work: Work, jobs: int) -> None:
        self.work, self.processes = work, jobs

    def jobs(self) -> Iterator[tuple[int, MemberJob | PopulationJob]]:
        return gather(list(self.work.jobs()), self.processes)

    def finished(self, index: int, result: Result | PopulationResult) -> None:
        with written_once(self.work.study):
            for member_index, member_result in each_member(index, result):
                self.work.finished(member_index, member_result)


class PopulationTrials(TrialWork):
    """A tuning study's trials asked STARTUP_TRIALS at a time (the quasi-random start in one batch, then
    TPE's proposals, each batch from the trials finished before it) and trained as populations."""

    def __init__(self, *args, processes: int) -> None:
        super().__init__(*args, batch=STARTUP_TRIALS)
        self.processes = processes

    def batched(self, started: list[tuple[int, MemberJob]]) -> Iterator[tuple[int, MemberJob | PopulationJob]]:
        return gather(started, self.processes)

    def start_all(self, asked: list) -> list[tuple[int, MemberJob]]:
        with written_once(self.folder):
            return super().start_all(asked)

    def finished(self, index: int, result: Result | PopulationResult) -> None:
        with written_once(self.folder):
            for member_index, member_result in each_member(index, result):
                super().finished(member_index, member_result)


@contextlib.contextmanager
def written_once(folder: StudyFolder) -> Iterator[None]:
    """study.json written once for the changes inside, not once per member: a population's members start
    and end together, and a study of 1,000 members rewritten after each spent most of its time on it."""
    folder.deferred = True
    try:
        yield
    finally:
        folder.deferred = False
        folder.write_record()


def each_member(index: int, result: Result | PopulationResult) -> tuple[tuple[int, Result], ...]:
    """(index in study.json, Result) of each member a job's result speaks for."""
    return result.results if isinstance(result, PopulationResult) else ((index, result),)


def gather(jobs: list[tuple[int, MemberJob]], processes: int) -> Iterator[tuple[int, MemberJob | PopulationJob]]:
    """The jobs with those that can train together as populations: one per process at least (a
    compute-bound population on one core leaves the others idle) and each within its memory; the rest
    alone, in their order."""
    groups: dict[str, list[tuple[int, MemberJob]]] = {}
    alone = []
    for index, job in jobs:
        key = population_key(job.config) if job.resume is None else None
        (groups.setdefault(key, []) if key else alone).append((index, job))
    for members in groups.values():
        if len(members) == 1:
            alone.extend(members)
            continue
        size = min(population_size(members[0][1].config), -(-len(members) // processes))
        for start in range(0, len(members), size):
            chunk = tuple(members[start : start + size])
            yield chunk[0][0], PopulationJob(chunk)
    yield from sorted(alone, key=lambda pair: pair[0])


def population_size(config: Config) -> int:
    """How many members of this config's kind fit in a population."""
    return max(1, available_memory() // MEMORY_SHARE // member_bytes(config))


def member_bytes(config: Config) -> int:
    """The memory a member takes in a population (module docstring)."""
    traits = DATASETS.get(config.data.name).traits
    widths = [math.prod(traits.input_shape or (1,)), *config.model.options.get("hidden", []), traits.num_outputs or 1]
    parameters = sum(a * b + b for a, b in zip(widths, widths[1:]))
    return 4 * (10 * parameters + 4 * config.data.batch_size * sum(widths))


def available_memory() -> int:
    """Bytes the machine has available now (MemAvailable; all of its memory where that is not known)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
