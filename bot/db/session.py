"""Engines and sessions: SQLite under var/ by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import PROJECT_ROOT

DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "staj.db"


def database_url() -> str:
    """DATABASE_URL, or the embedded SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _enable_sqlite_foreign_keys(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: database_url()); SQLite gets foreign keys and WAL."""
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, future=True, connect_args={"timeout": 30})
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)
        # Reads need no transaction: autocommit saves the BEGIN/COMMIT round trips.
        self._read_sessions = sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), future=True
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for queries only, each statement on its own (no transaction)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.close()


@functools.lru_cache(maxsize=1)
def shared_database() -> Database:
    """The process's database (from DATABASE_URL), created on first use."""
    return Database()
