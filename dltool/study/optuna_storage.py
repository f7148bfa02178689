"""Where a tuning study's trials live: an Optuna storage (an SQLite file by default, any database URL
Optuna accepts to share one study between processes on several machines), opened with one clear
error where it cannot be reached, and the lock that keeps the trial count exact.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from dltool.errors import UsageError, excerpt

SQLITE_TIMEOUT_S = 60  # several processes write one SQLite file: wait for the lock rather than fail
_THREAD_LOCK = threading.Lock()


def sqlite_path(url: str) -> Path | None:
    """The file of an sqlite:/// URL; None for another database."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def in_memory(url: str) -> bool:
    """sqlite:// (no path) and sqlite:///:memory: are SQLite's in-memory databases."""
    return url.rstrip("/") == "sqlite:" or url.startswith("sqlite:///:memory:") or url.startswith("sqlite://?")


def open_storage(url: str):
    """An Optuna RDBStorage for `url`; a UsageError of one line where it cannot be opened."""
    import optuna
    import sqlalchemy.exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # dltool prints its own progress
    if in_memory(url):
        raise UsageError(
            f"--storage '{excerpt(url)}' is an in-memory database: its trials would be gone when this process ends "
            "and no other process could join it; give sqlite:///PATH (a file) or a database server's URL"
        )
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise UsageError(f"--storage '{excerpt(url)}': folder '{path.parent}' does not exist")
    engine = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if path is not None else {"pool_pre_ping": True}
    try:
        with file_lock(path):  # two processes creating one SQLite file's tables at once: one would fail
            return optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(
            f"--storage '{excerpt(url)}' cannot be opened: {excerpt(why, 160)} "
            "(give sqlite:///PATH or a database URL Optuna accepts, e.g. postgresql://user:pass@host/db)"
        ) from None


@contextlib.contextmanager
def trial_lock(url: str) -> Iterator[None]:
    """Held while a process counts the trials and asks for the next: on one machine (an SQLite file) no two
    processes then start a trial beyond the requested number. Processes on several machines share no
    lock file; the trial's number settles it there (dltool.study.tune)."""
    with _THREAD_LOCK, file_lock(sqlite_path(url)):
        yield


@contextlib.contextmanager
def file_lock(database: Path | None) -> Iterator[None]:
    """An exclusive lock on DATABASE.lock beside an SQLite file, for the processes of this machine; none
    for another database."""
    if database is None:
        yield
        return
    with open(database.with_name(database.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
