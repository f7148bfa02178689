"""`dltool compare-optimizers`: plan the member runs, run them (in parallel processes with --jobs),
then aggregate their stored results into tables and plots in runs/<comparison-id>/.

Members are ordinary runs in the runs folder (`dltool show` works on each); the comparison folder
holds comparison.json (written at the start and after every member, so a crash loses nothing),
comparison.csv / .md and plots/. A diverged or failed member is a result, not the end of the
comparison; Ctrl-C stops after the running members and still writes what was measured.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from dltool.plots.study import draw_figures, figure_names
from dltool.store.run import RunStore, atomic_write_json, now_iso
from dltool.study.plan import Plan, PlanRequest
from dltool.study.results import group_results, impl_gaps, load_results, read_comparison, target_loss
from dltool.study.tables import print_comparison, write_tables
from dltool.train.progress import MemberProgress
from dltool.train.workers import ignore_interrupts, start_workers_early, worker_context


@dataclass
class Comparison:
    folder: Path
    plan: Plan
    run_ids: list[str | None]  # per member, None until it has started
    statuses: list[str]
    info: dict = field(default_factory=dict)  # kept in comparison.json through every save

    @property
    def id(self) -> str:
        return self.folder.name

    def save(self, status: str, **extra) -> None:
        members = [
            {
                "group": m.group,
                "variant": m.variant,
                "note": m.note,
                "optimizer": m.optimizer,
                "impl": m.impl,
                "seed": m.seed,
                "hyper": m.hyper,
                "lr": m.lr,
                "batch_size": m.batch_size,
                "run_id": run_id,
                "status": member_status,
            }
            for m, run_id, member_status in zip(self.plan.members, self.run_ids, self.statuses)
        ]
        self.info.update(extra)
        data = {
            "id": self.id,
            "status": status,
            "problem": self.plan.problem,
            "title": self.plan.title,
            "source": self.plan.source,
            "objective": self.plan.objective,
            **self.info,
            "members": members,
        }
        atomic_write_json(self.folder / "comparison.json", data)


# Members compute with one intra-op thread whatever --jobs is: results that depend on the thread
# count (summation order in large matmuls and convolutions) would otherwise differ between --jobs 1
# and --jobs N; the cores are used by running members side by side instead.
MEMBER_THREADS = 1


def default_jobs(members: int) -> int:
    return max(1, min(os.cpu_count() or 1, members))


def run_member(raw_config: dict, runs_dir: str, quiet: bool = True) -> tuple[str, str, int]:
    """One member in this process: (run id, status, exit code). Top-level so worker processes can run it."""
    import torch

    from dltool.config import validate
    from dltool.train.run import train

    torch.set_num_threads(MEMBER_THREADS)
    outcome = train(validate(raw_config, "comparison member"), Path(runs_dir), quiet=quiet, plots=False)
    return outcome.run.id, outcome.status, outcome.exit_code


def new_comparison(plan: Plan, runs_dir: Path | None, jobs: int) -> Comparison:
    folder = RunStore(runs_dir).create("compare", plan.problem).folder
    comparison = Comparison(folder, plan, [None] * len(plan.members), ["pending"] * len(plan.members))
    comparison.save(
        "running",
        started=now_iso(),
        jobs=jobs,
        pid=os.getpid(),
        seeds=plan.seeds,
        lr_scan=plan.lr_scan,
        batch_scan=plan.batch_scan,
    )
    return comparison


def _finish_member(comparison: Comparison, index: int, run_id: str | None, status: str, progress) -> None:
    comparison.run_ids[index], comparison.statuses[index] = run_id, status
    comparison.save("running")
    progress.member_done(comparison.plan.members[index], run_id, status)


def run_here(comparison: Comparison, progress) -> tuple[str, int]:
    """Members one after another in this process: ('completed', 0), or ('interrupted', 130 or 143)."""
    import torch

    threads = torch.get_num_threads()
    runs_root = str(comparison.folder.parent)
    try:
        for index, member in enumerate(comparison.plan.members):
            try:
                # one member at a time: its own progress bar (members in a pool stay quiet, or their bars would mix)
                run_id, status, code = run_member(member.config.to_dict(), runs_root, quiet=progress.quiet)
            except KeyboardInterrupt:  # between two members' signal handlers
                return "interrupted", 130
            _finish_member(comparison, index, run_id, status, progress)
            if status == "interrupted":  # the signal reached the member: it saved itself, stop here
                return "interrupted", code
    finally:
        torch.set_num_threads(threads)
    return "completed", 0


def run_in_pool(comparison: Comparison, pool: ProcessPoolExecutor, jobs: int, progress) -> tuple[str, int]:
    """Members in the pool's processes, at most `jobs` handed out at a time: on SIGINT/SIGTERM nothing
    new starts (the pool queues ahead what it is given, so handing out everything at once would run
    members after the signal); the running ones stop at their next step if they got it too, else finish."""
    from dltool.train.engine import StopFlag

    members, runs_root = comparison.plan.members, str(comparison.folder.parent)
    waiting = iter(enumerate(members))
    pending: dict[Future, int] = {}
    interrupted_code = 0

    def hand_out() -> None:
        for index, member in itertools.islice(waiting, 1):
            pending[pool.submit(run_member, member.config.to_dict(), runs_root)] = index

    with StopFlag() as stop:
        for _ in range(jobs):
            hand_out()
        import matplotlib.figure  # noqa: F401  (the plots come next: load them while the members train)

        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                try:
                    run_id, status, code = future.result()
                except Exception as exc:  # the worker died: the member is failed, the others go on
                    run_id, status, code = None, "failed", 1
                    print(f"warning: member {members[index].group} failed in its process: {exc}", file=sys.stderr)
                _finish_member(comparison, index, run_id, status, progress)
                if status == "interrupted":
                    interrupted_code = code
                if stop.signum is None and not interrupted_code:
                    hand_out()
    if stop.signum is not None:
        return "interrupted", 128 + stop.signum
    return ("interrupted", interrupted_code) if interrupted_code else ("completed", 0)


@dataclass(frozen=True)
class Report:
    comparison: Comparison
    status: str
    exit_code: int


def compare_optimizers(
    request: PlanRequest,
    runs_dir: Path | None,
    jobs: int | None = None,
    quiet: bool = False,
    target: float | None = None,
) -> Report:
    """Plan (all input checked first), run, then write the tables and plots and print the verdict."""
    from dltool.study.plan import plan_comparison

    if jobs is None or jobs > 1:
        start_workers_early()  # a no-op when the CLI has started it already
    plan = plan_comparison(request)
    jobs = jobs or default_jobs(len(plan.members))
    RunStore(runs_dir).check_writable()
    progress = MemberProgress(len(plan.members), quiet)
    started = time.perf_counter()
    comparison = new_comparison(plan, runs_dir, jobs)
    if jobs == 1:
        status, code = run_here(comparison, progress)
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context(), initializer=ignore_interrupts) as pool:
            status, code = run_in_pool(comparison, pool, jobs, progress)
    header, groups, results = summarize_comparison(comparison.folder, status, target)
    try:
        plots = draw_side_by_side(comparison.folder, figure_names(header), fork_ok=jobs > 1)
    except Exception as exc:  # the members' results are on disk and the tables still get written
        print(f"warning: the comparison's plots were not drawn ({type(exc).__name__}: {exc})", file=sys.stderr)
        plots = []
    wall = round(time.perf_counter() - started, 3)
    comparison.save(status, ended=now_iso(), wall_time_s=wall, **{k: header[k] for k in SUMMARY_KEYS})
    write_tables(
        comparison.folder, read_comparison(comparison.folder), results, groups, plan.seeds, plan.objective is not None
    )
    print_comparison(header, groups, plan.seeds, plan.objective is not None, comparison.folder, plots)
    if status == "interrupted":
        return Report(comparison, status, code)
    return Report(comparison, status, 1 if any(r.status == "failed" for r in results) else 0)


SUMMARY_KEYS = ("target_loss", "target_text", "impl_gaps")
GRID_FIGURES = ("scratch_vs_torch", "trajectories")  # a panel per member setting: the slow ones to draw


def draw_side_by_side(folder: Path, names: list[str], fork_ok: bool) -> list[Path]:
    """The grid figures in a forked child while this process draws the others: two cores, about half
    the wait. Only where this process has not trained (its torch thread pools would be copied), and
    where fork exists; a child that fails leaves its figures to this process."""
    grids = [name for name in names if name in GRID_FIGURES]
    if not fork_ok or not grids or len(grids) == len(names) or "fork" not in multiprocessing.get_all_start_methods():
        return draw_figures(folder, names)
    child = multiprocessing.get_context("fork").Process(target=_draw_in_child, args=(folder, grids), daemon=True)
    child.start()
    draw_figures(folder, [name for name in names if name not in grids])
    child.join()
    if child.exitcode != 0:
        draw_figures(folder, grids)
    return [folder / "plots" / f"{name}.png" for name in names]


def _draw_in_child(folder: Path, names: list[str]) -> None:
    """A failure here is reported once, by the parent, which then draws these figures itself."""
    try:
        draw_figures(folder, names)
    except BaseException:
        os._exit(1)


def summarize_comparison(folder: Path, status: str, target: float | None):
    """Header (what comparison.json says, plus the target and gaps), groups and member results, from files."""
    results = load_results(folder)
    goal = target_loss(results, target)
    groups = group_results(results, goal)
    if goal is None:
        target_text = "no member completed, so no target loss"
    else:
        how = "given" if target is not None else "best final + 10%"
        target_text = f"target loss {goal:.6g} ({how})"
    header = {
        **read_comparison(folder),
        "status": status,
        "target_loss": goal,
        "target_text": target_text,
        "impl_gaps": impl_gaps(results),
    }
    atomic_write_json(folder / "comparison.json", header)  # the figures, drawn elsewhere, read the target from here
    return header, groups, results
