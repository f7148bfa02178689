"""compare-optimizers --tune N: the same tuning budget for every optimizer before they are compared
(DeepOBS and Schmidt et al. 2021 tune each optimizer before comparing; a table of fixed learning rates
says more about the rates than about the optimizers).

Each variant gets N trials of its own tuning study (dltool.study.tune) over its search space
(dltool.study.tune_spaces: the literature's by default, or the lr around its default), selected on
the validation split or, where the data has no test set, on the training objective the notes plot. The
scratch and torch impls share the tuned values (one algorithm): the torch impl is tuned, scratch where
torch has none. The comparison then runs the tuned variants over its seeds.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from dltool.store.study import StudyFolder
from dltool.study.kinds.tune import TuneKind
from dltool.study.plan import Member, Plan
from dltool.study.problems import Variant
from dltool.study.tune import run_tuning
from dltool.study.tune_plan import TunePlan, plan_on
from dltool.study.tune_spaces import search_space
from dltool.train.run import train


def tune_variants(
    plan: Plan, trials: int, tune_space: tuple[str, ...], options, common_draws: bool = False
) -> tuple[tuple[Variant, ...], list[dict]]:
    """Every variant of the plan tuned with `trials` trials: the variants at their best values, and what each
    tuning study found (its id, the best values and objective), for study.json."""
    tuned, found = [], []
    for member in _tuned_members(plan):
        options_of = member.config.optimizer.options
        space = search_space(member.config.optimizer.name, options_of, tune_space)
        config = member.config.model_copy(update={"seed": plan.base_seed})  # the final runs' seeds are apart
        tuning = plan_on(plan.source, config, space, trials, "loss", prune=True, common=common_draws)
        if not options.quiet:
            print(f"tuning {member.entry.variant}: {trials} trials", file=sys.stderr, flush=True)
        study = run_tuning(tuning, replace(options, quiet=True)).study
        run_default(study, tuning, {entry.key: options_of[entry.key.split(".")[-1]] for entry in space})
        found_best, variant = TuneKind().spec(study).best, member.variant
        if found_best is None:  # no trial completed: the variant is compared at its own values
            tuned.append(variant)
            continue
        best = {key.split(".")[-1]: value for key, value in found_best["params"].items()}
        tuned.append(Variant(variant.optimizer, {**variant.hyper, **best}, variant.extra, _note(variant, trials)))
        found.append({**_found(member, study.id, found_best), "search": tuning.search_text()})
    return tuple(tuned), found


def run_default(study: StudyFolder, tuning: TunePlan, defaults: dict[str, Any]) -> None:
    """The untuned setting trained once on the tuning objective, outside the trials' pool (it is no draw from
    the space, and every optimizer's would sit at the same multiplier): the budget table's k = 0."""
    outcome = train(tuning.config(defaults), study.members_root, quiet=True, plots=False, study=study.id)
    value = outcome.summary.get("final", {}).get(f"{tuning.split}_loss") if outcome.status == "completed" else None
    study.update_plan(default={"run_id": outcome.run.id, "status": outcome.status, "value": value})


def _tuned_members(plan: Plan) -> list[Member]:
    """One member per variant, the one that is tuned: its torch impl (scratch where torch has none), first seed."""
    chosen: dict[str, Member] = {}
    for member in plan.members:  # in plan order: variant, impl, then seed: the first is the first seed
        label = member.entry.variant
        if label not in chosen or (member.entry.impl == "torch" and chosen[label].entry.impl != "torch"):
            chosen[label] = member
    return list(chosen.values())


def _note(variant: Variant, trials: int) -> str:
    return f"{variant.note}; tuned, {trials} trials" if variant.note else f"tuned, {trials} trials"


def _found(member: Member, study_id: str, best: dict[str, Any]) -> dict[str, Any]:
    return {
        "variant": member.entry.variant,
        "tuned_on": member.entry.impl,
        "study": study_id,
        "best": best["params"],
        "objective": best["value"],
    }
