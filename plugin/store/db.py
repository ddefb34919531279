"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out).

An SQLite file and its instance folder are private to their owner (0600 and 0700), created so
from the start rather than tightened after the fact.

SQLite is tuned on every connection: WAL so readers never block the writer, a busy timeout so a
second writer waits instead of failing, enforced foreign keys, and `BEGIN IMMEDIATE` so a
transaction that reads and then writes takes the write lock up front (a deferred transaction
that upgrades fails with "database is locked" whatever the timeout).

A read session (`Database.session(read_only=True)`, what GET and HEAD requests use) takes no
write lock: a plain deferred BEGIN on SQLite, so a page renders while a worker writes, with
`PRAGMA query_only` so a write attempted in it fails at once instead of upgrading to the lock;
`SET TRANSACTION READ ONLY` on PostgreSQL, which refuses writes the same way.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

# instance_path: the store's callers find it here too.
from ..config import DatabaseSettings, Settings, instance_path

log = logging.getLogger(__name__)
#: The execution option that marks a read-only engine (see `Database.session`).
READ_ONLY = "makeright_read_only"
ENV_URL = DatabaseSettings.VARIABLES[0].name


def ensure_instance(folder: Path | None = None) -> Path:
    """The instance folder, created (or tightened) so only its owner can enter it: it holds the
    database, the secret key file and the demo's replies."""
    folder = folder or instance_path()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _owner_only(folder, 0o700)
    return folder


def database_url(url: str | None = None) -> str:
    """`url`, else MAKERIGHT_DATABASE_URL, else SQLite in the instance folder. Entry points
    pass the URL from their Settings; the environment is the fallback of library callers."""
    if url:
        return url
    configured = DatabaseSettings.from_env().url
    if configured:
        return configured
    return f"sqlite:///{ensure_instance() / 'makeright.sqlite'}"


def settings_url(settings: Settings) -> str:
    """The database of `settings`: its URL, else SQLite in its instance folder."""
    return settings.database.url or \
        f"sqlite:///{ensure_instance(settings.paths.instance) / 'makeright.sqlite'}"


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite would use the umask, often
    0644: every local user could read the reviews and the password hashes), and tighten an
    existing one and its -wal/-shm. SQLite gives the -wal and -shm files it creates later the
    main file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for item in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        _owner_only(item, 0o600)


def _owner_only(path: Path, mode: int) -> None:
    try:
        if path.exists() and path.stat().st_mode & 0o077:
            os.chmod(path, mode)
    except PermissionError:
        log.warning("%s is readable by other users and belongs to someone else; make it %o",
                    path, mode)


def make_engine(url: str | None = None, **kwargs) -> Engine:
    url = postgres_engine_url(database_url(url))
    if url.startswith("sqlite"):
        file = make_url(url).database
        if file and file != ":memory:" and not file.startswith("file:"):
            prepare_sqlite_file(Path(file))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)
        _tune_sqlite(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _read_only_postgres(engine)
    return engine


def _read_only_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (below) instead of the driver's implicit BEGIN.
        dbapi_connection.isolation_level = None
        dbapi_connection.text_factory = lenient_text
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    gate = _WriteGate()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # query_only belongs to the pooled connection, so it is set and cleared per transaction.
        if connection.get_execution_options().get(READ_ONLY):
            if not connection.info.get("query_only"):
                connection.exec_driver_sql("PRAGMA query_only=ON")
                connection.info["query_only"] = True
            connection.exec_driver_sql("BEGIN")
            return
        if connection.info.pop("query_only", False):
            connection.exec_driver_sql("PRAGMA query_only=OFF")
        gate.enter(connection.info)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection, record):
        gate.leave(record.info)


def lenient_text(raw: bytes) -> str:
    """Decode a text value SQLite hands over, even one that is not valid UTF-8.

    SQLite stores whatever bytes it is given, and `json_extract` of a metadata value written
    before the input rules (an escaped lone surrogate) yields bytes Python's default refuses,
    failing the whole query. Those come back as the lone surrogate they encode (pages and
    exports show it escaped, see `connectors.untrusted.printable`); other bad bytes as U+FFFD.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")


class _WriteGate:
    """Threads of one process queue here for SQLite's single write lock.

    Waiting on SQLite's busy handler means sleeping in steps of up to 100 ms, which is what made
    the slowest requests slow; a lock in the process wakes the next writer the moment the
    previous one is done. A thread that already holds the gate (a nested transaction) skips it
    and lets SQLite's own timeout decide, so it can never wait on itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def enter(self, info: dict) -> None:
        me = threading.get_ident()
        if info.get("gate") or self._owner == me:
            return
        if self._lock.acquire(timeout=30):
            self._owner = me
            info["gate"] = True

    def leave(self, info: dict) -> None:
        if info.pop("gate", False):
            self._owner = None
            self._lock.release()


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """One engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str | None = None, **engine_kwargs):
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._pinned = threading.local()
        # Same pool, marked read-only: the begin listeners above see the option.
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                          expire_on_commit=False)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """The sessions this thread opens inside the block share one connection.

        Each session otherwise takes a connection from the pool and, on PostgreSQL, pings it
        first (`pool_pre_ping`): a round trip per unit of work. A worker thread that runs many
        short transactions in a row (posting) pins one connection for the lot; it holds no
        transaction between them. SQLite is never pinned: its write gate is released when a
        connection goes back to the pool, and a pinned one would hold it for the whole block.
        Read-only sessions never use the pinned connection: its options are a writer's.
        """
        if is_sqlite(self.engine) or getattr(self._pinned, "connection", None) is not None:
            yield
            return
        with self.engine.connect() as connection:
            self._pinned.connection = connection
            try:
                yield
            finally:
                self._pinned.connection = None

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        `read_only` takes no write lock and refuses writes (see the module's docstring).
        """
        connection = getattr(self._pinned, "connection", None)
        if read_only:
            session = self.read_sessions()
        else:
            session = self.sessions() if connection is None else self.sessions(bind=connection)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def postgres_engine_url(url: str) -> str:
    """SQLAlchemy's name for the psycopg 3 driver; people write plain postgresql:// URLs."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") \
        if url.startswith("postgresql://") else url


@contextmanager
def scratch_schema(url: str, prefix: str = "scratch") -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a new schema, dropped afterwards.

    Tests and benchmarks share one server; each run gets its own namespace instead of
    leaving tables in `public`.
    """
    from uuid import uuid4

    from sqlalchemy import text

    schema = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(postgres_engine_url(url))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()
