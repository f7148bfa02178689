"""The compare kind (`dltool compare-optimizers`): optimizers on one problem over seeds, judged by the
verdict rule (dltool.results.verdict); its verdict table is what the terminal, results.md and report.html
show, and study.json keeps the groups and the verdict as numbers."""

from __future__ import annotations

import functools
import statistics
from pathlib import Path
from typing import Any

from dltool.plots.budget import draw_budget
from dltool.plots.study import draw_figures, figure_names
from dltool.results.budget import budget_table
from dltool.results.comparison import ComparisonResults, Judging, judge_study
from dltool.results.groups import Group
from dltool.results.members import MemberResult
from dltool.results.table import ResultsTable
from dltool.store.study import STUDY_FILES, Headline, StudyFolder
from dltool.study.figures import draw_side_by_side
from dltool.study.kinds.base import Spec, StudyKind, register
from dltool.text import format_value

COLUMNS = (  # (stat key, heading, format); the final loss's heading names its split
    ("final_loss", "final loss", "{:.6g}"),
    ("best_loss", "best loss", "{:.6g}"),
    ("final_acc", "final acc", "{:.4f}"),
    ("valid_loss", "valid loss (test − valid)", "{:.6g}"),
    ("steps_to_target", "steps to target", "{:,.0f}"),
    ("wall_time_s", "wall (s)", "{:.2f}"),
    ("examples_per_s", "examples/s", "{:,.0f}"),
)
DIFFERENCE = "vs best [95% sim.]"
# the columns a narrow terminal drops first (results.md and report.html keep them all)
DROPPABLE = (
    "examples/s", "wall (s)", "steps to target", "best loss", "valid loss (test − valid)", "time to target",
    "final acc", "hyperparameters", DIFFERENCE,
)  # fmt: skip


class CompareSpec(Spec):
    objective: str | None = None  # the toy objective, for trajectory plots
    lr_scan: bool = False  # several lr scales: the sensitivity plot
    batch_scan: bool = False  # several batch sizes: loss against examples
    given_target: float | None = None  # --target-loss; None: the problem's, or the best final loss + 10%
    target: float | None = None  # the problem's target loss
    tuning: list[dict[str, Any]] = []  # --tune: each variant's tuning study and what it found
    margin: float = 0.01  # the practical equivalence margin, relative to the best's final loss
    deterministic: bool = False  # the problem has no randomness: its seeds repeat identical runs
    final_seeds: list[int] = []  # the seeds of the final runs (with --tune: apart from the tuning's)
    tuning_seed: int | None = None  # the seed every tuning trial ran with

    def judging(self, seeds: int) -> Judging:
        return Judging(seeds, self.given_target, self.target, self.margin, self.deterministic)


def format_stat(value: tuple[float, float] | None, fmt: str, seeds: int) -> str:
    if value is None:
        return "-"
    mean, std = value
    spread = f"{std:.2g}" if "g}" in fmt else fmt.format(std)  # a loss's std needs 2 digits, not 6
    return fmt.format(mean) + (f" ± {spread}" if seeds > 1 else "")


@register
class CompareKind(StudyKind):
    name = "compare"
    noun = "comparison"
    spec_type = CompareSpec

    def judge(self, study: StudyFolder, spec: CompareSpec) -> ComparisonResults:
        tuning = {entry["variant"]: entry["study"] for entry in spec.tuning}
        return judge_study(study, spec.judging(study.record.header.seeds), tuning)

    def tables(self, study: StudyFolder, spec: CompareSpec, results: ComparisonResults) -> list[ResultsTable]:
        seeds = study.record.header.seeds
        headings, rows, marks = verdict_cells(results, seeds, spec.objective is not None)
        record = study.record
        intro = f"{record.status}; {len(results.results)} member runs, {seeds} seed(s) each; {results.target_text}."
        notes = [verdict_line(results), f"Rule: {results.verdict.rule.text()}.", *seed_notes(results, spec)]
        if results.gaps:
            variant, gap = max(results.gaps.items(), key=lambda item: item[1])
            notes.append(
                f"Largest scratch vs torch gap: {gap:.1e} of the loss ({variant}). The notes' and torch's "
                "formulas differ for AdaGrad and RMSprop (eps inside or outside the root)."
            )
        title = f"{record.header.title} — {results.target_text}"
        if spec.tuning:
            intro += f" Tuned with seed {spec.tuning_seed}, judged on seeds {_seed_range(spec.final_seeds)}."
            intro += f" Each setting's tuning: {spec.tuning[0].get('search', 'TPE')}."
        widths = {"hyperparameters": 16, "status": 10}
        verdict = ResultsTable(title, headings, rows, marks, (intro,), tuple(notes), DROPPABLE, widths)
        return [verdict, budget_table(results.budget, results.verdict.rule.margin)] if results.budget else [verdict]

    def stored(self, spec: CompareSpec, results: ComparisonResults) -> tuple[str, Headline, dict]:
        verdict = results.verdict
        best = next((g for g in results.shown_groups() if verdict.is_best(g)), None)
        mean = {key: (best.stats.get(key) or (None,))[0] if best else None for key in ("final_loss", "final_acc")}
        named = verdict.best.name if verdict.best else None
        headline = Headline(named, len(verdict.labelled("equivalent")), mean["final_loss"], mean["final_acc"])
        groups = [group_row(results, group) for group in results.groups]
        stored = {"split": results.split, "target_loss": results.target, "impl_gaps": results.gaps, "groups": groups}
        return results.target_text, headline, {**stored, "verdict": verdict.to_json()}

    def member_rows(self, results: ComparisonResults) -> list[dict]:
        return [member_row(result) for result in results.results]

    def figures(self, study: StudyFolder, spec: CompareSpec, results: ComparisonResults, fork_ok: bool) -> list[Path]:
        if not any(result.records for result in results.results):
            return []
        folder = study.path(STUDY_FILES.plots)
        impls = {member.impl for member in study.record.members}
        names = figure_names(impls, spec.objective, spec.lr_scan, spec.batch_scan)
        draw = functools.partial(draw_figures, folder, title=study.record.header.title, objective=spec.objective)
        paths = draw_side_by_side(folder, names, functools.partial(draw, results=results), fork_ok)
        if results.budget:
            paths.append(draw_budget(folder, list(results.budget), study.record.header.title))
        return paths

    def plan_lines(self, study: StudyFolder, spec: CompareSpec) -> list[str]:
        header, members = study.record.header, study.record.members
        optimizers = ", ".join(dict.fromkeys(member.optimizer for member in members))
        impls = ", ".join(dict.fromkeys(member.impl for member in members))
        return [
            f"problem: {header.title}" + (f" ({header.source})" if header.source != header.title else ""),
            f"plan: {len(members)} member runs: optimizers {optimizers}; impl {impls}; "
            f"{header.seeds} seed(s) each; {header.jobs} job(s)",
            *(f"tuned first: {entry['variant']} in {entry['study']}" for entry in spec.tuning),
        ]


def verdict_cells(results: ComparisonResults, seeds: int, toy: bool) -> tuple[tuple, tuple, tuple]:
    """Headings, rows and marks of the verdict table: one row per contender, best rank first."""
    groups = results.groups
    columns = [c for c in COLUMNS if any(g.stats.get(c[0]) for g in groups) or c[0] == "final_loss"]
    if toy:  # a few steps on one point: examples/s says nothing
        columns = [c for c in columns if c[0] != "examples_per_s"]
    on = f" ({results.split})" if results.split else ""
    headings = ["verdict", "rank", "optimizer", "impl", "hyperparameters", f"final loss{on}", DIFFERENCE]
    headings += [heading for _, heading, _ in columns[1:]]
    headings += ["time to target"] * bool(results.target) + ["final x"] * toy + ["status"]
    vary_batch = len({g.first.batch_size for g in groups}) > 1
    rows, marks = [], []
    for group in results.shown_groups():
        standing, member = results.standing(group), group.first
        hyper = " ".join(f"{k}={format_value(v)}" for k, v in member.hyper.items() if k != "weight_decay" or v)
        hyper += f" batch={member.batch_size}" if vary_batch else ""
        merged = standing is not None and len(standing.groups) > 1
        cells = [_label(standing), str(standing.rank) if standing and standing.rank else "-", member.optimizer]
        cells += ["scratch = torch" if merged else member.impl, hyper + (f" ({member.note})" if member.note else "")]
        cells += [_stat_cell(group, "final_loss", "{:.6g}", seeds), _difference(standing)]
        cells += [_stat_cell(group, key, fmt, seeds) for key, _, fmt in columns[1:]]
        cells += [_time_to_target(group)] if results.target else []
        cells += [_final_x(group.results[0])] if toy else []
        rows.append((*cells, group.status))
        best, failed = standing is not None and standing.label == "best", standing is not None and not standing.finished
        marks.append("best" if best else ("bad" if failed or "diverg" in group.status else None))
    return tuple(headings), tuple(rows), tuple(marks)


def _label(standing) -> str:
    """★ best, equivalent, worse, inconclusive (with the seeds that would settle it), or what happened."""
    if standing is None or standing.label is None:
        return "-"
    if standing.label == "best":
        return "★ best"
    needed = f" (~{standing.seeds_needed} seeds)" if standing.seeds_needed else ""
    return standing.label + needed


def _difference(standing) -> str:
    """The contender's final loss minus the best's, with its simultaneous interval where seeds give one."""
    if standing is None or standing.difference is None:
        return "-"
    if standing.label == "best":
        return "0"
    interval = f" [{standing.diff_low:+.3g}, {standing.diff_high:+.3g}]" if standing.diff_low is not None else ""
    return f"{standing.difference:+.3g}{interval}"


def _time_to_target(group: Group) -> str:
    """'0.340 s (1/3)': the mean over the seeds that reached the target, and how many did."""
    time = group.stats.get("time_to_target_s")
    return f"{time[0]:.3f} s ({group.reached})" if time else "not reached"


def _seed_range(seeds: list[int]) -> str:
    return f"{seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else ", ".join(map(str, seeds))


def _final_x(result: MemberResult) -> str:
    point = result.final_point
    return "(" + ", ".join(f"{v:.6f}" for v in point) + ")" if point else "-"


def _stat_cell(group: Group, key: str, fmt: str, seeds: int) -> str:
    """A statistic over the seeds; for a diverged member's final loss, the last finite one and its step."""
    diverged = next((r for r in group.results if r.status == "diverged"), None)
    if key == "final_loss" and group.stats.get(key) is None and diverged and diverged.last_finite:
        loss, step = diverged.last_finite
        return f"{loss:.6g} at step {step}, then diverged"
    if key == "valid_loss" and group.stats.get(key) and group.stats.get("final_loss"):
        gap = group.stats["final_loss"][0] - group.stats[key][0]  # the selection's optimism, seen on the test set
        return format_stat(group.stats[key], fmt, seeds) + f" ({gap:+.3g})"
    return format_stat(group.stats.get(key), fmt, seeds)


def verdict_line(results: ComparisonResults) -> str:
    """Every best and equivalent contender named, then the worse, the open and the failed ones."""
    verdict = results.verdict
    if verdict.best is None:
        return "No verdict: no contender finished every seed."
    by_value = " by value" if verdict.rule.deterministic else ""
    parts = [f"Best{by_value}: {verdict.best.name}."]
    names = {label: [s.name for s in verdict.labelled(label)] for label in ("equivalent", "worse")}
    if names["equivalent"]:
        margin = f"within ±{verdict.rule.margin:.1%} of its loss"
        parts.append(f"Equivalent to it ({margin}): {', '.join(names['equivalent'])}.")
    if names["worse"]:
        parts.append(f"Worse: {', '.join(names['worse'])}.")
    open_ = verdict.labelled("inconclusive")
    if open_ and verdict.rule.seeds < 2:
        parts.append(f"Inconclusive with one seed ({len(open_)}): --seeds 5 gives a spread to test against.")
    elif open_:
        settle = [s.name + (f" (~{s.seeds_needed} seeds)" if s.seeds_needed else "") for s in open_]
        parts.append(f"Inconclusive, more seeds needed: {', '.join(settle)}.")
    failed = [s for s in verdict.standings if not s.finished]
    if failed:
        parts.append("Failed: " + ", ".join(f"{s.name} ({s.failure})" for s in failed) + ".")
    return " ".join(parts)


def seed_notes(results: ComparisonResults, spec: CompareSpec) -> list[str]:
    """What the seeds could and could not tell; the spread, or that they repeat one run."""
    seeds = results.verdict.rule.seeds
    if spec.deterministic:
        return [f"The {seeds} seeds repeat identical runs: this problem has no randomness."] if seeds > 1 else []
    notes = ["Values are mean ± standard deviation over the seeds."] if seeds > 1 else []
    halves = [(s.diff_high - s.diff_low) / 2 for s in results.verdict.standings if s.diff_low is not None]
    best = results.verdict.best
    if halves and best is not None and best.mean:
        half = statistics.median(halves)
        notes.append(
            f"With {seeds} seeds, differences to the best smaller than about {half:.3g} ({half / abs(best.mean):.2%} "
            "of its loss) cannot be told from zero."
        )
    return notes


def member_row(result: MemberResult) -> dict[str, Any]:
    """One member as a flat row (results.csv and study.json's member_results)."""
    m, s = result.member, result.summary
    return {
        "group": m.group,
        "optimizer": m.optimizer,
        "impl": m.impl,
        "seed": m.seed,
        "hyperparameters": " ".join(f"{k}={v}" for k, v in m.hyper.items()),
        "lr": m.lr,
        "batch_size": m.batch_size,
        "split": result.split,
        "final_loss": result.final_loss,
        "best_loss": result.best_loss,
        "final_acc": result.final_acc,
        "time_to_target_s": result.time_to_target,
        "steps_to_target": result.steps_to_target,
        "wall_time_s": s.get("wall_time_s"),
        "examples_per_s": s.get("examples_per_s"),
        "steps": s.get("steps"),
        "status": "diverging" if result.growing else result.status,
        "diverged_at_step": result.diverged_at,
        "final_x": " ".join(f"{v:.6f}" for v in result.final_point) if result.final_point else None,
        "run_id": result.run_id,
    }


def group_row(results: ComparisonResults, group: Group) -> dict[str, Any]:
    """One group as study.json lists it: its (mean, std) per statistic and its contender's standing."""
    stats = {key: (list(value) if value else None) for key, value in group.stats.items()}
    standing = results.standing(group)
    judged = standing.to_json() if standing else {}
    verdict = {key: judged.get(key) for key in ("rank", "label", "difference", "diff_low", "diff_high")}
    row = {"group": group.name, "best": results.verdict.is_best(group), "status": group.status}
    row |= {"seeds": len(group.results), "reached_target": group.reached}
    return {**row, **stats, **verdict, "contender": judged.get("name")}
