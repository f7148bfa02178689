"""A study whose files do not read as dltool wrote them (edited by hand, cut short, copied half): one
message naming the study, the file, the field and what to do, wherever the study is opened. `dltool runs`
lists such a study as `damaged` rather than hiding it; its member runs stay readable on their own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from dltool.errors import DltoolError, UsageError, excerpt
from dltool.files import read_json
from dltool.store.study import STUDY_FILES, StudyFolder, StudyHeader, StudyRecord, is_study, record_path

REMEDY = (
    "restore the file from a copy; for a sweep, run the command that made it again (it rebuilds study.json from "
    "its plan and its member runs); or delete the study folder (its member runs stay, listed on their own)"
)


class StudyDamaged(UsageError):
    """A study's files are not as dltool wrote them; `where` names the file and the field."""

    def __init__(self, study_id: str, where: str) -> None:
        super().__init__(f"study '{study_id}' is damaged: {where}; {REMEDY}")


def validation_text(exc) -> str:
    """'plan.metric: Field required' from a pydantic ValidationError: the first problem, where it is."""
    problems = exc.errors()
    if not problems:
        return excerpt(str(exc), 160)
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "the whole file"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {excerpt(first.get('msg', ''), 120)}{more}"


# What reading a study's own files raises when they were edited or cut short; anything else is dltool's bug
READ_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, OSError, RecursionError)


@contextlib.contextmanager
def reading(study_id: str, what: str) -> Iterator[None]:
    """Around reading a study (`what`: its tables, its pictures): a damaged file is StudyDamaged, not a
    traceback. dltool's own errors (DltoolError) pass as they are."""
    try:
        yield
    except DltoolError:
        raise
    except READ_ERRORS as exc:
        raise StudyDamaged(study_id, f"its {what} could not be read ({detail(exc)})") from None


def detail(exc: BaseException) -> str:
    """What went wrong, in a line: where a pydantic ValidationError (a ValueError) says, else the error."""
    if hasattr(exc, "errors"):
        return validation_text(exc)
    return f"{type(exc).__name__}: {excerpt(str(exc), 160)}"


def open_study(folder: Path) -> StudyFolder | None:
    """The study in `folder`; where its study.json (or an older comparison.json) cannot be read as dltool
    wrote it, a study that says so (its status `damaged`, every use of it a StudyDamaged); None where the
    folder has no study file."""
    path = record_path(folder)
    if not is_study(folder):
        return None
    data = read_json(path)
    if not path.exists():
        why = f"{path.name} is missing"
    elif not path.is_file():
        why = f"{path.name} is not a file"
    elif not isinstance(data, dict):
        why = f"{path.name}: not a JSON object (cut short, or not JSON)"
    else:
        try:
            return StudyFolder(folder, StudyRecord.from_json(data))
        except READ_ERRORS as exc:
            why = f"{path.name}: {detail(exc)}"
    kind = data.get("kind") if isinstance(data, dict) and isinstance(data.get("kind"), str) else "study"
    header = StudyHeader(problem=folder.name, title="-", source="", started="", jobs=0, pid=0, seeds=0, kind=kind)
    return StudyFolder(folder, StudyRecord(folder.name, "damaged", header, [], damage=why))


def misplaced_file(study: StudyFolder) -> str | None:
    """A file of the study that is a folder (or its plots folder a file): what to say, or None. Each would
    stop the study's next write (the tables, the report, the Optuna database) with an OS error."""
    files = (STUDY_FILES.member_table, STUDY_FILES.results_text, STUDY_FILES.report, STUDY_FILES.best_config,
             STUDY_FILES.optuna, STUDY_FILES.optuna + ".lock")  # fmt: skip
    for name in files:
        if study.path(name).is_dir():
            return f"{name} is a folder, not a file (remove it: dltool writes it again)"
    plots = study.path(STUDY_FILES.plots)
    if plots.exists() and not plots.is_dir():
        return f"{STUDY_FILES.plots} is a file, not a folder (remove it: dltool draws the pictures again)"
    return None


def check_sound(study: StudyFolder) -> None:
    """StudyDamaged where the study's study.json could not be read or one of its files is misplaced."""
    damage = study.record.damage or misplaced_file(study)
    if damage:
        raise StudyDamaged(study.id, damage)
