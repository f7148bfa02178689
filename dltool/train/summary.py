"""A run's summary.json: its final and best metrics from the stored records, and its timings."""

from __future__ import annotations

import math

from dltool.store.run import Run
from dltool.train.setup import Position, Setup


def summarize(run: Run, setup: Setup, status: str, wall_s: float, train_s: float, position: Position) -> dict:
    """Final and best metrics from the stored records; the training time of every part (`train_s`) and the
    wall time of this process."""
    records = run.metrics()
    final: dict = {}
    for record in records:  # the last record of each split wins
        for key in ("loss", "acc"):
            if record.get(key) is not None:
                final[f"{record['split']}_{key}"] = record[key]
    evals = [r for r in records if r["split"] == setup.data.eval_split and r.get("loss") is not None]
    best = {}
    if evals:  # a diverging run's last loss is null (non-finite): the best is over the finite ones
        best[f"{setup.data.eval_split}_loss"] = min(r["loss"] for r in evals)
        accs = [r["acc"] for r in evals if r.get("acc") is not None]
        if accs:
            best[f"{setup.data.eval_split}_acc"] = max(accs)
    summary = {
        "status": status,
        "final": final,
        "best": best,
        "steps": position.step,
        "epochs": position.examples / setup.batches.used,
        "examples": position.examples,
        "train_time_s": round(train_s, 3),
        "wall_time_s": round(wall_s, 3),
        "examples_per_s": round(position.examples / train_s, 1) if train_s > 0 else None,
        "eval_split": setup.data.eval_split,
    }
    sums = position.epoch_sums
    if status != "completed" and sums["count"] and math.isfinite(sums["loss"]):  # stopped mid-epoch
        summary["epoch_so_far"] = {"train_loss": sums["loss"] / sums["count"], "steps": position.batch_in_epoch}
        if setup.data.task == "classification":
            summary["epoch_so_far"]["train_acc"] = sums["correct"] / sums["count"]
    return summary


def earlier_parts(run: Run, resumed_step: int, resumed_at: float) -> list[dict]:
    """The parts of a resumed run before this one, up to the checkpoint it resumed from: those its last
    summary listed, and one for the time the checkpoint holds that no summary accounts for (a part killed
    outright writes none). Work after that checkpoint was done again, so it is not counted."""
    if not resumed_step:
        return []
    listed = run.read_summary()[0].get("parts")
    kept = [part for part in listed if part["to_step"] <= resumed_step] if isinstance(listed, list) else []
    start, known = (kept[-1]["to_step"] if kept else 0), sum(part["train_time_s"] for part in kept)
    if start < resumed_step:
        kept.append({"from_step": start, "to_step": resumed_step, "train_time_s": round(resumed_at - known, 3)})
    return kept
