"""Opening the store: the database URL, SQLite's WAL mode, and migrations to the newest schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session, create_engine

from auditor.faults import SQLITE_BUSY_SECONDS, store_fault
from auditor.i18n import _
from auditor.problems import StoreError
from auditor.store.where import ENV_URL, HEAD_REVISION, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# a PostgreSQL address that accepts the connection and never answers must not hang a command (or the scheduler)
# for ever: connecting gives up after this long (unless the URL says connect_timeout=), and a server that stops
# answering mid-work is noticed by TCP keepalives within about a minute
INSERT_BATCH = 5000  # rows per bulk INSERT statement (the parameters of one batch are held at once)
PG_CONNECT_TIMEOUT = 10
PG_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def default_url(workspace: Path) -> str:
    return f"sqlite:///{sqlite_file(workspace)}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cur.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@dataclass
class Store:
    engine: Engine
    url: str

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back whole on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def _private_file(db: Path) -> None:
    """The store is its owner's alone: .auditor/ 0700, the database 0600 (SQLite gives its -wal and -shm files the
    database's mode)."""
    from auditor import safeio

    if db.parent.name == ".auditor":
        safeio.private_dir(db.parent)
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(db, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)


def _revision(engine: Engine) -> str | None:
    """The schema's revision, read cheaply (Alembic itself is only loaded when a migration is due)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def open_store(workspace: Path, url: str | None = None, *, migrate: bool = True) -> Store:
    url = url or os.environ.get(ENV_URL) or default_url(workspace)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(_("not a database URL: {url}").format(url=url)) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                _private_file(Path(parsed.database))
            except OSError as exc:
                raise StoreError(_("cannot open the database {url}: {error}").format(
                    url=url, error=exc.strerror or exc)) from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {k: v for k, v in PG_KEEPALIVES.items() if k not in parsed.query}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    else:
        raise StoreError(_("unsupported database {backend}; use SQLite or PostgreSQL")
                         .format(backend=parsed.get_backend_name()))
    store = Store(engine, parsed.render_as_string(hide_password=True))
    if migrate:
        try:
            if _revision(engine) != HEAD_REVISION:
                from alembic import command

                command.upgrade(alembic_config(engine), "head")
        except DBAPIError as exc:
            engine.dispose()
            fault = store_fault(exc)
            detail = str(fault) if fault is not None else str(exc.orig).strip().splitlines()[0]
            raise StoreError(_("cannot open the database {url}: {error}").format(url=store.url, error=detail)) from None
    return store
