"""A tuning study's pictures, from its Optuna storage (every process's trials, not only this one's):

- history: each trial's value by trial number (pruned trials at their last report, as x), with the best
  so far as a step line;
- importances: how much each tuned key decides whether a trial is among the best (Optuna's PED-ANOVA
  evaluator, which needs no scikit-learn);
- slices: the value against each tuned key (log axis for loguniform keys, categories for choices),
  coloured by trial number, so the region the sampler settled on shows.
Matplotlib Figures drawn here (not Optuna's pyplot ones): one look and no global figure list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool.plots.figure import blank_figure, finish_axes, new_figure, save_figure


def draw_tune_figures(folder: Path, optuna_study, trials: list, space: dict, title: str, ylabel: str) -> list[Path]:
    """The pictures of `trials` (the study's counted trials in its Optuna storage) into `folder`."""
    finished = [t for t in trials if t.state.name == "COMPLETE"]
    if not finished:
        return []
    higher = optuna_study.direction.name == "MAXIMIZE"
    paths = [save_figure(history_figure(trials, ylabel, higher, title), folder / "history.png")]
    paths.append(save_figure(slice_figure(trials, space, ylabel), folder / "slices.png"))
    importances = _importances(optuna_study, finished, space)
    if importances:
        figure = importance_figure(importances, ylabel, len(finished))
        paths.append(save_figure(figure, folder / "importances.png"))
    return paths


def _value(trial) -> float | None:
    if trial.state.name == "COMPLETE":
        return trial.value
    if trial.state.name == "PRUNED" and trial.intermediate_values:
        return trial.intermediate_values[max(trial.intermediate_values)]
    return None


def history_figure(trials: list, ylabel: str, higher: bool, title: str):
    from matplotlib.ticker import MaxNLocator

    fig, ax = new_figure(8.0, 4.5)
    done = [(t.number, t.value) for t in trials if t.state.name == "COMPLETE"]
    pruned = [(t.number, _value(t)) for t in trials if t.state.name == "PRUNED" and _value(t) is not None]
    xs, ys = np.array(done, dtype=float).T
    ax.plot(xs, ys, "o", color="tab:blue", label="completed trial")
    if pruned:
        px, py = np.array(pruned, dtype=float).T
        ax.plot(px, py, "x", color="tab:gray", label="pruned trial (its last report)")
    best = np.maximum.accumulate(ys) if higher else np.minimum.accumulate(ys)
    ax.step(xs, best, where="post", color="tab:red", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trial numbers are whole
    finish_axes(ax, "trial", ylabel, f"{title}\noptimization history")
    return fig


def slice_figure(trials: list, space: dict[str, str], ylabel: str):
    keys = list(space)
    fig = blank_figure(4.0 * len(keys) + 1.0, 4.0)
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    shown = [t for t in trials if _value(t) is not None and all(k in t.params for k in keys)]
    numbers = np.array([t.number for t in shown], dtype=float)
    for ax, key in zip(axes, keys):
        values = [t.params[key] for t in shown]
        if space[key].startswith("choice"):
            choices = sorted({str(v) for v in values}, key=_choice_order)
            xs = np.array([choices.index(str(v)) for v in values], dtype=float)
            ax.set_xticks(range(len(choices)), choices)
        else:
            xs = np.array(values, dtype=float)
            if space[key].startswith("loguniform"):
                from matplotlib.ticker import NullFormatter

                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # labels at every minor tick overlap
        points = ax.scatter(xs, [_value(t) for t in shown], c=numbers, cmap="viridis", s=25)
        ax.set_xlabel(key)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(ylabel)
    fig.colorbar(points, ax=list(axes), label="trial")
    fig.suptitle("the value against each tuned key (pruned trials at their last report)", fontsize=10)
    return fig


def _choice_order(text: str) -> tuple:
    """Numbers by value, then the other choices by their text."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _importances(optuna_study, finished: list, space: dict[str, str]) -> dict[str, float]:
    """PED-ANOVA importances; none with fewer than two completed trials or where no key varied."""
    if len(finished) < 2 or not any(len({str(t.params.get(k)) for t in finished}) > 1 for k in space):
        return {}
    import optuna

    evaluator = optuna.importance.PedAnovaImportanceEvaluator()  # deterministic: the same figure when redrawn
    return optuna.importance.get_param_importances(optuna_study, evaluator=evaluator)


FEW_TRIALS = 20  # below it, importances rest on a handful of trials: drawn with a warning


def importance_figure(importances: dict[str, float], ylabel: str, trials: int):
    fig, ax = new_figure(7.0, 1.6 + 0.5 * len(importances))
    keys = list(importances)[::-1]
    ax.barh(keys, [importances[k] for k in keys], color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"importance for the {ylabel} (PED-ANOVA, normalized)")
    title = f"hyperparameter importances, from {trials} completed trials"
    if trials < FEW_TRIALS:  # a key that mattered may score near 0 by chance of which points were drawn
        title += f"\nfewer than {FEW_TRIALS}: a rough guide only, the slices show what was tried"
    ax.set_title(title, fontsize=10, color="tab:red" if trials < FEW_TRIALS else "black")
    ax.grid(True, axis="x", alpha=0.3)
    return fig
