"""The tune kind (`dltool tune`): Optuna's trials as points, ranked by the metric; pictures of the
history, the importances and the slices from the Optuna storage (every process's trials)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.results.points import PointResults
from dltool.store.study import STUDY_FILES, StudyFolder
from dltool.study.kinds.base import register
from dltool.study.kinds.points import PointsKind, PointSpec
from dltool.text import format_value


class TuneSpec(PointSpec):
    base: dict[str, Any]  # the config with the --set options, before the space
    space: dict[str, str]  # key -> its distribution, described
    space_given: list[str]  # the --space texts, parsed again on --resume
    trials: int
    prune: bool
    split: str  # the split the objective is read on
    storage: str | None = None  # a shared Optuna storage's URL; None: the study folder's own SQLite file
    study_name: str
    notes: list[str] = []  # the objective, then the best trial, in words
    best: dict[str, Any] | None = None  # the best trial: number, value, params, run id, its test metrics
    sampler_seed: int | None = None  # the seed of its quasi-random start and of TPE (dltool.study.startup)
    sampler_seeds: list[int] = []  # each process's TPE seed, as they opened the study (dltool.study.tune)
    default: dict[str, Any] | None = None  # a comparison's tuning: the untuned setting's run and value (k = 0)


@register
class TuneKind(PointsKind):
    name = "tune"
    noun = "tuning study"
    spec_type = TuneSpec

    def described_keys(self, spec: TuneSpec) -> dict[str, Any]:
        return spec.space

    def shape(self, study: StudyFolder, results: PointResults) -> str:
        return "one per trial"

    def notes(self, spec: TuneSpec, results: PointResults | None) -> list[str]:
        return list(spec.notes) + (values_tried(spec, results) if results is not None else [])

    def figures(self, study: StudyFolder, spec: TuneSpec, results: PointResults, fork_ok: bool) -> list[Path]:
        import optuna

        from dltool.plots.tune import draw_tune_figures
        from dltool.study.optuna_storage import open_storage
        from dltool.study.trials import counted

        url = shared_storage(study) or own_storage(study)
        optuna_study = optuna.load_study(study_name=spec.study_name, storage=open_storage(url))
        trials = counted(optuna_study.get_trials(deepcopy=False))
        folder, title = study.path(STUDY_FILES.plots), study.record.header.title
        return draw_tune_figures(folder, optuna_study, trials, spec.space, title, results.described)


def values_tried(spec: TuneSpec, results: PointResults) -> list[str]:
    """Each tuned key's values over the trials that have a value: a choice's values with their count and best
    result, a range's lowest and highest; so the table's reader sees what the few trials covered."""
    valued = [(group.first.point, results.value(group)[0]) for group in results.groups if results.value(group)]
    lines = []
    for key in spec.space:
        values = [point[key] for point, _ in valued if key in point]
        if not values:
            continue
        if spec.space[key].startswith("choice"):
            counts = {}
            for point, result in valued:
                counts.setdefault(format_value(point[key]), []).append(result)
            pick = max if results.stat.endswith("acc") else min
            shown = [f"{value} ({len(got)} trials, best {pick(got):.4g})" for value, got in counts.items()]
            lines.append(f"{key} tried: " + "; ".join(shown))
        else:
            lines.append(f"{key} tried from {format_value(min(values))} to {format_value(max(values))} "
                         f"({len(values)} trials)")  # fmt: skip
    return lines


def own_storage(study: StudyFolder) -> str:
    """The URL of the study folder's own SQLite file, from where the folder is now."""
    return f"sqlite:///{study.path(STUDY_FILES.optuna).resolve()}"


def shared_storage(study: StudyFolder) -> str | None:
    """The shared storage the study's trials live in; None where they live in the folder's own file. Studies
    of earlier versions saved their own file's absolute path: read as their own, so that a moved study still
    resumes and a copied one does not write into the original's database."""
    url = TuneKind().spec(study).storage
    path = Path(url.removeprefix("sqlite:///")) if url and url.startswith("sqlite:///") else None
    if url is None or (path is not None and path.name == STUDY_FILES.optuna and path.parent.name == study.id):
        return None
    return url
