"""A study's member runs as values, read back from their stored files (never from memory), so the
results of a finished, interrupted or crashed study can always be rebuilt the same way."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dltool.store.run import RunSnapshot
from dltool.store.study import MemberEntry, StudyFolder

EVAL_SPLITS = ("valid", "test", "full")  # what a run is judged on, where its summary does not say (it crashed)
SPLIT_WORDS = {"valid": "validation split", "test": "test split", "full": "training set"}  # "full": no held-out data


def split_words(split: str | None) -> str:
    """What a split is, for a sentence: 'test split', 'training set'."""
    return SPLIT_WORDS.get(split, f"{split} split") if split else "evaluation"


@dataclass(frozen=True)
class MemberResult:
    member: MemberEntry
    snapshot: RunSnapshot | None  # None for a member that never got a run folder
    status: str
    records: tuple[dict, ...]  # the evaluation records of the judged split, in order
    arrival: tuple[float, int] | None = None  # (training seconds, steps) to the target loss; None: not reached
    split: str | None = None  # the split `records` are on: valid, test or full
    selection: tuple[dict, ...] = ()  # the validation records, where the judged split is the test split

    @property
    def summary(self) -> dict:
        return self.snapshot.summary if self.snapshot else {}

    @property
    def run_id(self) -> str | None:
        return self.snapshot.id if self.snapshot else None

    @property
    def time_to_target(self) -> float | None:
        return self.arrival[0] if self.arrival else None

    @property
    def steps_to_target(self) -> int | None:
        return self.arrival[1] if self.arrival else None

    @property
    def final_loss(self) -> float | None:
        losses = [r["loss"] for r in self.records]
        return losses[-1] if losses and self.status != "diverged" else None

    @property
    def last_finite(self) -> tuple[float, int] | None:
        """(loss, step) of the last evaluation with a finite loss: what a diverged member reached."""
        finite = [r for r in self.records if r.get("loss") is not None]
        return (finite[-1]["loss"], finite[-1]["step"]) if finite else None

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
        return self.snapshot.status.get("diverged_at_step") if self.snapshot and self.status == "diverged" else None

    @property
    def valid_loss(self) -> float | None:
        """The final validation loss of a member judged on the test split (the other side of the gap)."""
        losses = [r["loss"] for r in self.selection if r.get("loss") is not None]
        return losses[-1] if losses else None


def load_results(study: StudyFolder, on_test: bool = False) -> list[MemberResult]:
    """Every member of the study, with its run's records and summary (each file read once): those of the
    split its runs evaluated on, or with `on_test` those of the test split where a run has one beside its
    validation split (a comparison's verdict: selection read the validation split, judgement must not)."""
    return [_member_result(study, member, on_test) for member in study.record.members]


def _member_result(study: StudyFolder, member: MemberEntry, on_test: bool) -> MemberResult:
    run = study.member_run(member)
    if run is None:
        return MemberResult(member, None, member.status if member.status != "pending" else "not run", ())
    snapshot = run.snapshot()
    status = snapshot.status.get("status", member.status)
    split = snapshot.eval_split or next(
        (name for name in EVAL_SPLITS if any(r.get("split") == name for r in snapshot.metrics)), None
    )
    records = tuple(r for r in snapshot.metrics if r.get("split") == split)
    tested = tuple(r for r in snapshot.metrics if r.get("split") == "test")
    if on_test and split == "valid":  # a run still training has no test record yet: no final loss
        return MemberResult(member, snapshot, status, tested, split="test", selection=records)
    return MemberResult(member, snapshot, status, records, split=split)


def time_to(records: tuple[dict, ...], target: float | None) -> tuple[float, int] | None:
    """(training seconds, steps) at the first evaluation whose loss is at or below the target."""
    if target is None:
        return None
    for record in records:
        if record.get("loss") is not None and record["loss"] <= target:
            return record["time"], record["step"]
    return None


def with_target(results: list[MemberResult], target: float | None) -> list[MemberResult]:
    """The results, each with when it reached the target loss (new values: the inputs are not changed)."""
    return [replace(result, arrival=time_to(result.records, target)) for result in results]
