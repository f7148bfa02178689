"""A profile study's numbers from its stored measures (no torch): each optimizer's ratio to the best per
problem, rho(tau), and the rank table of results.md (ranks per problem, mean rank, the measures, and
the comparisons behind them)."""

from __future__ import annotations

import math

from dltool.store.study import StudyFolder


def ratios(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """optimizer -> problem -> its measure over the problem's best (inf where it has none)."""
    optimizers = sorted({name for row in table.values() for name in row})
    out: dict[str, dict[str, float]] = {name: {} for name in optimizers}
    for problem, row in table.items():
        best = min(row.values(), default=math.nan)
        for name in optimizers:
            out[name][problem] = row[name] / best if name in row and best > 0 else math.inf
    return out


def profile(ratio_of: dict[str, float], tau: float) -> float:
    """rho(tau): the fraction of problems on which the ratio is at most tau."""
    return sum(r <= tau for r in ratio_of.values()) / len(ratio_of)


def profile_markdown(study: StudyFolder, table: dict[str, dict[str, float]], rows: list[dict]) -> str:
    problems = list(table)
    comparisons = study.record.header.plan["comparisons"]
    lines = [
        f"# Optimizers across problems: {', '.join(problems)}",
        "",
        "Rank of each optimizer on each problem by the mean final loss of its best contender (scratch or "
        "torch; the problem's own comparison has the intervals and ties), and the mean rank, best first.",
        "",
        "| optimizer | " + " | ".join(problems) + " | mean rank |",
        "|---|" + "---|" * (len(problems) + 1),
    ]
    for row in rows:
        ranks = " | ".join(str(row[problem]) for problem in problems)
        lines.append(f"| {row['optimizer']} | {ranks} | {row['mean rank']:.2f} |")
    lines += ["", "## Measures (mean final loss)", "", "| optimizer | " + " | ".join(problems) + " |"]
    lines.append("|---|" + "---|" * len(problems))
    for row in rows:
        values = [table[problem].get(row["optimizer"]) for problem in problems]
        lines.append(
            f"| {row['optimizer']} | " + " | ".join(f"{v:.6g}" if v is not None else "-" for v in values) + " |"
        )
    lines += [
        "",
        "Performance profile (plots/performance_profile.png, Dolan and Moré 2002): for each factor tau, the "
        "fraction of problems on which an optimizer's measure is within tau times the best optimizer's.",
        "",
        "## Comparisons",
        "",
    ]
    lines += [f"- {problem}: {study_id}" for problem, study_id in comparisons.items()]
    return "\n".join(lines) + "\n"
