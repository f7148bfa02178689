"""The loss a member must reach to count as arrived ('time to target', AlgoPerf's measure). Free of the
store and of numpy: the command line's help names the slack."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dltool.results.members import MemberResult

TARGET_SLACK = 0.1  # without a stated target: the best final loss + this share of |best|


def target_loss(results: list[MemberResult], given: float | None) -> float | None:
    """Given, or TARGET_SLACK of |best| above the best final loss of the completed members."""
    if given is not None:
        return given
    finals = [r.final_loss for r in results if r.final_loss is not None and r.status == "completed"]
    if not finals:
        return None
    best = min(finals)
    return best + TARGET_SLACK * abs(best)
