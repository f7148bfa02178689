"""A run folder's JSON files, typed: status.json and summary.json (metrics.jsonl: store/metrics.py).

The writers validate what they write with these models and the readers what they read, so whatever
the tool wrote reads back unchanged, and a file damaged since (edited, truncated, overwritten) is named
with what is wrong with it instead of failing a command later. A reader returns the content it could
use and a short reason naming the file (None when the file is sound).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from dltool.store.process import PID_MAX
from dltool.store.status import WRITTEN_STATUSES

# status.json and summary.json hold a few hundred bytes when dltool writes them: a larger one is not
# theirs, and is refused before it is read into memory.
MAX_JSON_BYTES = 1 << 20
EXCERPT = 40  # characters of a bad value a message shows

Count = Annotated[int, Field(ge=0, le=2**53)]  # steps and examples: exact as floats, so plots can use them
Pid = Annotated[int, Field(gt=0, le=PID_MAX)]  # 0 and negative pids would name process groups


def _written_status(value: str) -> str:
    if value not in WRITTEN_STATUSES:
        raise ValueError(f"expected one of {', '.join(WRITTEN_STATUSES)}")
    return value


Status = Annotated[str, AfterValidator(_written_status)]


class Stored(BaseModel):
    """Strict types (a string is never a number); keys a later version adds are kept as they are."""

    model_config = ConfigDict(strict=True, extra="allow")


class Card(Stored):
    name: str
    impl: str


class Rank(Stored):
    rank: Count
    host: str
    pid: Pid


class Ranks(Stored):
    world_size: int = Field(ge=1)
    backend: str
    ranks: list[Rank] = Field(min_length=1)


class StatusRecord(Stored):
    """status.json: how the run stands, the process running it, and the card `dltool runs` lists.
    Field(None): a field dltool may leave out, but never writes as null."""

    status: Status
    pid: Pid = Field(None)
    pid_start: str = Field(None)  # dltool.store.process.process_start: the pid's process, not a reuse
    started: str = Field(None)
    created: float = Field(None)  # time.time() when the run was made: orders runs of the same second
    ended: str = Field(None)
    step: Count = Field(None)
    error: str = Field(None)
    diverged_at_step: Count = Field(None)
    pruned_at_step: Count = Field(None)  # a tuning trial its study's pruner stopped
    model: Card = Field(None)
    optimizer: Card = Field(None)
    distributed: Ranks = Field(None)
    study: str = Field(None, max_length=200)  # the id of the study (a comparison) the run is a member of


class Part(Stored):
    from_step: Count
    to_step: Count
    train_time_s: float
    threads: Count = Field(None)  # unknown for a part killed outright


class SummaryRecord(Stored):
    """summary.json: final and best metrics and the timings of the process that ended the run."""

    status: Status
    final: dict[str, float] = Field(None)
    best: dict[str, float] = Field(None)
    steps: Count = Field(None)
    epochs: float = Field(None)
    examples: Count = Field(None)
    train_time_s: float = Field(None)
    wall_time_s: float = Field(None)
    examples_per_s: float | None = None  # null where the run trained for no measurable time
    eval_split: str = Field(None)
    error: str = Field(None)
    diverged_at_step: Count = Field(None)
    pruned_at_step: Count = Field(None)
    # a run stopped inside an epoch: that epoch's mean train loss (and accuracy) over its steps so far
    epoch_so_far: dict[str, float] = Field(None)
    # the parts of a resumed run: steps from and to, training time, threads (train_time_s is their sum)
    parts: list[Part] = Field(None)


def excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


def json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def first_problem(exc: ValidationError) -> str:
    """The first thing wrong, in a few words: 'pid: input should be a valid integer, got 'abc''."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "the content"
    if error["type"] == "missing":
        return f"{where} is missing"
    return f"{where}: {error['msg'][:1].lower()}{error['msg'][1:]}, got {excerpt(error['input'])}"


def load_object(path: Path) -> tuple[dict | None, str | None]:
    """The JSON object in `path`: (content, None); (None, None) if there is no file; (None, reason)."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            return None, f"{name} is {size / 2**20:.1f} MiB, far larger than dltool writes it"
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{name} cannot be read ({exc.strerror})"
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, f"{name} is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"{name} is not valid JSON (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError):
        return None, f"{name} is not valid JSON (too deeply nested, or a number too long)"
    if not isinstance(value, dict):
        return None, f"{name} is not a JSON object (it holds {json_kind(value)})"
    return value, None


def read_record(path: Path, model: type[Stored]) -> tuple[dict, str | None]:
    """A status.json or summary.json as written, if `model` validates it: (content, None); ({}, reason)
    where it is damaged; ({}, None) where there is none."""
    data, damage = load_object(path)
    if data is None:
        return {}, damage
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return {}, f"{path.name}: {first_problem(exc)}"
    return data, None
