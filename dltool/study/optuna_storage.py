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
from dltool.study.heartbeat import heartbeat_options, quiet_heartbeat

SQLITE_TIMEOUT_S = 60  # several processes write one SQLite file: wait for the lock rather than fail
SERVER_TIMEOUT_S = 10  # a database server that does not answer (connect, or a statement) within it: one line
_THREAD_LOCK = threading.Lock()
_server_timeout_s = [SERVER_TIMEOUT_S]  # --storage-timeout, for this process (a member's watch carries its own)


def set_server_timeout(seconds: float | None) -> None:
    if seconds is not None:
        _server_timeout_s[0] = seconds


def server_timeout() -> float:
    return _server_timeout_s[0]


def sqlite_path(url: str) -> Path | None:
    """The file of an sqlite:/// URL; None for another database."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def in_memory(url: str) -> bool:
    """sqlite:// (no path) and sqlite:///:memory: are SQLite's in-memory databases."""
    return url.rstrip("/") == "sqlite:" or url.startswith("sqlite:///:memory:") or url.startswith("sqlite://?")


def shown_url(url: str) -> str:
    """The URL as messages show it: its password hidden (a terminal or a log is no place for it), cut if long."""
    import sqlalchemy.engine

    with contextlib.suppress(Exception):  # not a URL SQLAlchemy reads: shown as given, the error says why
        url = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    return excerpt(url)


def server_options(url: str, timeout_s: float) -> dict:
    """The driver's own connect and statement timeouts (a server whose port accepts but never answers would
    otherwise hang for minutes): libpq's connect_timeout and statement_timeout, PyMySQL's connect, read and
    write timeouts. A local SQLite file has no server: it waits for its lock (SQLITE_TIMEOUT_S) instead."""
    seconds = max(1, round(timeout_s))
    scheme = server_scheme(url)
    if scheme == "postgres":
        return {"connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"}
    if scheme == "mysql":
        return {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}
    return {}


def open_storage(url: str, timeout_s: float | None = None, heartbeat: bool = False):
    """An Optuna RDBStorage for `url`; a UsageError of one line where it cannot be opened or its server does not
    answer within `timeout_s` (default: --storage-timeout). With `heartbeat`, its trials are claimed with one
    (a shared storage: dltool.study.heartbeat)."""
    import optuna
    import sqlalchemy.exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # dltool prints its own progress
    if in_memory(url):
        raise UsageError(
            f"--storage '{shown_url(url)}' is an in-memory database: its trials would be gone when this process ends "
            "and no other process could join it; give sqlite:///PATH (a file) or a database server's URL"
        )
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise UsageError(f"--storage '{shown_url(url)}': folder '{path.parent}' does not exist")
    timeout_s = server_timeout() if timeout_s is None else timeout_s
    if path is not None:
        engine = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    else:
        engine = {"pool_pre_ping": True, "connect_args": server_options(url, timeout_s)}
    try:
        # two processes creating one database's tables at once: one would fail
        with storage_lock(url), quiet_heartbeat():
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, **(heartbeat_options() if heartbeat else {}))
    except ImportError as exc:  # SQLAlchemy's driver for the URL's scheme is not installed
        raise UsageError(f"--storage '{shown_url(url)}' needs its database driver: {missing_driver(exc)}") from None
    except (sqlalchemy.exc.SQLAlchemyError, ValueError, OSError) as exc:  # OSError: its lock file (name too long...)
        why = (exc.strerror if isinstance(exc, OSError) else None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UsageError(
            f"--storage '{shown_url(url)}' cannot be opened: {excerpt(why, 160)} "
            "(give sqlite:///PATH or a database URL Optuna accepts, e.g. postgresql://user:pass@host/db; "
            f"a slow server: a longer --storage-timeout than {timeout_s:g} s)"
        ) from None


DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pymysql": "pymysql",
                   "MySQLdb": "mysqlclient"}  # fmt: skip


def missing_driver(exc: ImportError) -> str:
    """What to install: SQLAlchemy names the module it could not import in the ImportError's cause
    (postgresql:// means psycopg 3 since SQLAlchemy 2.1, postgresql+psycopg2:// psycopg2)."""
    cause = exc.__cause__ or exc.__context__ or exc
    module = getattr(cause, "name", None) or getattr(exc, "name", None)
    if module is None:
        return f"{excerpt(str(exc), 160)}; install the driver SQLAlchemy names for its scheme"
    package = DRIVER_PACKAGES.get(module, module)
    return f"no module named '{module}'; install it with: pip install '{package}'"


@contextlib.contextmanager
def trial_lock(url: str) -> Iterator[None]:
    """Held while a process counts the trials and asks for the next: no two processes then start a trial
    beyond the requested number (dltool.study.trials marks one surplus where the database has no lock)."""
    with _THREAD_LOCK, storage_lock(url):
        yield


@contextlib.contextmanager
def storage_lock(url: str) -> Iterator[None]:
    """Exclusive among the processes of a storage: a lock file beside an SQLite file (the processes of this
    machine), PostgreSQL's advisory lock or MySQL's and MariaDB's named lock (those of every machine; the
    server frees it when its holder's connection dies); none for another database."""
    path = sqlite_path(url)
    if path is not None:
        with file_lock(path):
            yield
        return
    scheme = server_scheme(url)
    if scheme is None:
        yield
        return
    import sqlalchemy

    take, free = LOCK_STATEMENTS[scheme]
    with _lock_engine(url).connect() as connection:
        taken = connection.execute(sqlalchemy.text(take.format(wait=round(server_timeout())))).scalar()
        if taken in (0, None):  # GET_LOCK's answer on its timeout
            raise UsageError(f"--storage '{shown_url(url)}': its lock was not free within {server_timeout():g} s")
        try:
            yield
        finally:
            connection.execute(sqlalchemy.text(free))


LOCK_NAME, LOCK_KEY = "dltool-tune", 0x646C746F6F6C  # one lock for dltool's studies: each holds it for milliseconds
LOCK_STATEMENTS = {
    "postgres": (f"SELECT pg_advisory_lock({LOCK_KEY})", f"SELECT pg_advisory_unlock({LOCK_KEY})"),
    "mysql": (f"SELECT GET_LOCK('{LOCK_NAME}', {{wait}})", f"SELECT RELEASE_LOCK('{LOCK_NAME}')"),
}
_LOCK_ENGINES: dict[str, object] = {}


def _lock_engine(url: str):
    """An engine of its own for the lock (the lock lives as long as its connection), once per process."""
    if url not in _LOCK_ENGINES:
        import sqlalchemy

        options = server_options(url, server_timeout())
        _LOCK_ENGINES[url] = sqlalchemy.create_engine(url, connect_args=options, pool_pre_ping=True)
    return _LOCK_ENGINES[url]


def server_scheme(url: str) -> str | None:
    """postgres or mysql (MariaDB speaks it) for a database server's URL; None for another."""
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith("postgres"):
        return "postgres"
    return "mysql" if scheme.startswith(("mysql", "mariadb")) else None


@contextlib.contextmanager
def file_lock(database: Path | None) -> Iterator[None]:
    """An exclusive lock on DATABASE.lock beside an SQLite file, for the processes of this machine; none
    for another database."""
    if database is None:
        yield
        return
    lock = database.with_name(database.name + ".lock")
    if lock.is_dir():
        raise UsageError(f"'{lock}' is a folder, not a file (remove it: dltool makes it again)")
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
