"""A comparison's numbers, read back from its member runs' stored files (never from memory), so the
tables of a finished, interrupted or crashed comparison can always be rebuilt the same way."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool.store.run import Run


@dataclass(frozen=True)
class MemberInfo:
    """A member as comparison.json lists it (compare_plan.Member without its config)."""

    group: str
    variant: str
    note: str
    optimizer: str
    impl: str
    seed: int
    hyper: dict[str, Any]
    lr: float
    batch_size: int


@dataclass
class MemberResult:
    member: MemberInfo
    run: Run | None
    status: str
    records: list[dict]  # the evaluation records (loss on the test or whole set), in order
    summary: dict
    time_to_target: float | None = None

    @property
    def final_loss(self) -> float | None:
        losses = [r["loss"] for r in self.records]
        return losses[-1] if losses and self.status != "diverged" else None

    @property
    def best_loss(self) -> float | None:
        losses = [r["loss"] for r in self.records if r.get("loss") is not None]
        return min(losses) if losses else None

    @property
    def final_acc(self) -> float | None:
        accs = [r["acc"] for r in self.records if r.get("acc") is not None]
        return accs[-1] if accs else None

    @property
    def final_point(self) -> list[float] | None:
        return self.records[-1].get("x") if self.records else None

    @property
    def growing(self) -> bool:
        """Finite but moving away: the final loss is over 10x a positive starting one (gd with too large a step)."""
        losses = [r["loss"] for r in self.records if r.get("loss") is not None]
        return self.status == "completed" and len(losses) > 1 and losses[0] > 0 and losses[-1] > 10 * losses[0]

    @property
    def shown_status(self) -> str:
        if self.status == "diverged" and self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        return "diverging" if self.growing else self.status

    @property
    def diverged_at(self) -> int | None:
        return self.run.status().get("diverged_at_step") if self.run and self.status == "diverged" else None


@dataclass
class Group:
    """One row of the tables: a member configuration over its seeds."""

    name: str
    results: list[MemberResult]
    stats: dict[str, tuple[float, float] | None] = field(default_factory=dict)  # key -> (mean, std)
    winner: bool = False

    @property
    def first(self) -> MemberInfo:
        return self.results[0].member

    @property
    def status(self) -> str:
        statuses = [r.shown_status for r in self.results]
        if len(set(statuses)) == 1:
            return statuses[0]
        return ", ".join(f"{statuses.count(s)}/{len(statuses)} {s}" for s in dict.fromkeys(statuses))


def read_comparison(folder: Path) -> dict:
    return json.loads((folder / "comparison.json").read_text())


def load_results(folder: Path) -> list[MemberResult]:
    """Every member of the comparison in `folder`, with its run's evaluation records and summary."""
    results = []
    for entry in read_comparison(folder)["members"]:
        info = MemberInfo(**{key: entry[key] for key in MemberInfo.__dataclass_fields__})
        run = Run(folder.parent / entry["run_id"]) if entry.get("run_id") else None
        if run is None or not run.folder.is_dir():
            status = entry["status"] if entry["status"] != "pending" else "not run"
            results.append(MemberResult(info, None, status, [], {}))
            continue
        summary = run.summary()
        split = summary.get("eval_split") or (
            "test" if run.config().get("data", {}).get("name") == "fashion_mnist" else "full"
        )
        records = [r for r in run.metrics() if r.get("split") == split]
        results.append(MemberResult(info, run, run.status().get("status", entry["status"]), records, summary))
    return results


def target_loss(results: list[MemberResult], given: float | None) -> float | None:
    """The loss a member must reach to count as arrived: given, or 10% of |best| above the best final loss."""
    if given is not None:
        return given
    finals = [r.final_loss for r in results if r.final_loss is not None and r.status == "completed"]
    if not finals:
        return None
    best = min(finals)
    return best + 0.1 * abs(best)


def time_to(records: list[dict], target: float | None) -> float | None:
    """Training seconds at the first evaluation whose loss is at or below the target."""
    if target is None:
        return None
    for record in records:
        if record.get("loss") is not None and record["loss"] <= target:
            return record["time"]
    return None


def _mean_std(values: list[float | None]) -> tuple[float, float] | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite or len(finite) < len(values):
        return None  # a mean over the seeds that happened to finish would flatter the group
    return statistics.fmean(finite), (statistics.stdev(finite) if len(finite) > 1 else 0.0)


def group_results(results: list[MemberResult], target: float | None) -> list[Group]:
    groups: dict[str, Group] = {}
    for result in results:
        result.time_to_target = time_to(result.records, target)
        groups.setdefault(result.member.group, Group(result.member.group, [])).results.append(result)
    for group in groups.values():
        rs = group.results
        group.stats = {
            "final_loss": _mean_std([r.final_loss for r in rs]),
            "best_loss": _mean_std([r.best_loss for r in rs]),
            "final_acc": _mean_std([r.final_acc for r in rs]) if any(r.final_acc is not None for r in rs) else None,
            "time_to_target_s": _mean_std([r.time_to_target for r in rs]),
            "wall_time_s": _mean_std([r.summary.get("wall_time_s") for r in rs]),
            "examples_per_s": _mean_std([r.summary.get("examples_per_s") for r in rs]),
        }
    ranked = [g for g in groups.values() if all(r.status == "completed" for r in g.results) and g.stats["final_loss"]]
    if ranked:
        min(ranked, key=lambda g: g.stats["final_loss"][0]).winner = True
    return list(groups.values())


def impl_gaps(results: list[MemberResult]) -> dict[str, float]:
    """Per variant: the largest |scratch - torch| loss at the same evaluation, relative to the scratch loss."""
    by_key: dict[tuple, dict[str, MemberResult]] = {}
    for r in results:
        key = (r.member.variant, r.member.seed)
        by_key.setdefault(key, {})[r.member.impl] = r
    gaps: dict[str, float] = {}
    for (variant, _seed), pair in by_key.items():
        if set(pair) != {"scratch", "torch"}:
            continue
        gap = 0.0
        for a, b in zip(pair["scratch"].records, pair["torch"].records):
            if a.get("loss") is not None and b.get("loss") is not None and a["loss"] != 0:
                gap = max(gap, abs(a["loss"] - b["loss"]) / abs(a["loss"]))
        gaps[variant] = max(gaps.get(variant, 0.0), gap)
    return gaps


def member_row(result: MemberResult) -> dict[str, Any]:
    """One member as a flat row (comparison.csv and the members of comparison.json)."""
    m, s = result.member, result.summary
    return {
        "group": m.group,
        "optimizer": m.optimizer,
        "impl": m.impl,
        "seed": m.seed,
        "hyperparameters": " ".join(f"{k}={v}" for k, v in m.hyper.items()),
        "lr": m.lr,
        "batch_size": m.batch_size,
        "final_loss": result.final_loss,
        "best_loss": result.best_loss,
        "final_acc": result.final_acc,
        "time_to_target_s": result.time_to_target,
        "wall_time_s": s.get("wall_time_s"),
        "examples_per_s": s.get("examples_per_s"),
        "steps": s.get("steps"),
        "status": "diverging" if result.growing else result.status,
        "diverged_at_step": result.diverged_at,
        "final_x": " ".join(f"{v:.6f}" for v in result.final_point) if result.final_point else None,
        "run_id": result.run.id if result.run else None,
    }
