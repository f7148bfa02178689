"""The study kinds, registered by name: a new kind is its module here (its plan, results, tables and
pictures), a figures module in dltool.plots, the command that starts it, and one line below."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dltool.errors import UsageError, did_you_mean
from dltool.results.table import ResultsTable
from dltool.store.study import StudyFolder
from dltool.store.study_damage import check_sound, reading
from dltool.study.kinds import compare, profile, sweep, tune  # noqa: F401  (each registers its kind)
from dltool.study.kinds.base import STUDY_KINDS, StudyKind


def kind_of(study: StudyFolder) -> StudyKind:
    """The study's kind; one this dltool does not know (a newer one wrote it) is a usage error, and so is a
    study whose study.json could not be read (StudyDamaged)."""
    check_sound(study)
    kind = STUDY_KINDS.get(study.kind)
    if kind is None:
        names = sorted(STUDY_KINDS)
        raise UsageError(
            f"study '{study.id}' is of kind '{study.kind}'{did_you_mean(study.kind, names)}, which this dltool "
            f"does not know ({', '.join(names)}); a newer dltool wrote it"
        )
    return kind


def current_tables(study: StudyFolder) -> list[ResultsTable]:
    """The study's tables from its members' files as they are now (a running study: so far)."""
    kind = kind_of(study)
    with reading(study.id, "plan and members' results"):
        spec = kind.spec(study)
        return kind.tables(study, spec, kind.judge(study, spec))


def draw(kind: StudyKind, study: StudyFolder, spec: Any, results: Any, fork_ok: bool) -> list[Path] | None:
    """The kind's pictures; None where drawing failed, said as a warning (the members' results are on disk,
    and the tables are still written)."""
    try:
        return kind.figures(study, spec, results, fork_ok)
    except Exception as exc:
        print(f"warning: the {study.noun}'s plots were not drawn ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None


def redraw_plots(study: StudyFolder, fork_ok: bool) -> list[Path]:
    """The study's pictures drawn again into its plots/ folder, from its members' files as they are now;
    [] where drawing failed (the warning says why)."""
    kind = kind_of(study)
    with reading(study.id, "plan and members' results"):
        spec = kind.spec(study)
        results = kind.judge(study, spec)
    paths = draw(kind, study, spec, results, fork_ok)
    if paths == []:
        raise UsageError(f"{study.noun} '{study.id}': nothing to plot (no member has a result yet)")
    return paths or []
