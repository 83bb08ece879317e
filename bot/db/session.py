"""Engines and sessions: SQLite under var/ by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import load_settings


def _enable_sqlite_foreign_keys(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the file; it syncs at checkpoints rather than on every
    # commit (a commit no longer waits for the disk, which blocked the event loop per message).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | None = None, *, autocommit: bool = False) -> Engine:
    """An engine for `url` (default: DATABASE_URL); SQLite gets foreign keys and WAL.

    A SQLite file gets a pool of open connections, as PostgreSQL does (SQLAlchemy 1.4 opens and
    closes one per session by default, which cost more than the queries). With `autocommit`,
    every statement is its own transaction.
    """
    url = url or load_settings().database_url
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        pool: dict[str, Any] = {}
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            pool = {"poolclass": QueuePool, "pool_size": 5, "max_overflow": 5}
        engine = create_engine(
            url,
            future=True,
            connect_args={"timeout": 30, "check_same_thread": False},
            **pool,
            **options,
        )
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(
        url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=5, **options
    )


class Database:
    """An engine for transactions, one for reads, and their session factories."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, future=True, expire_on_commit=False)
        # Reads need no transaction: autocommit saves the BEGIN/COMMIT round trips. Their own
        # pool keeps its connections in autocommit (switching a pooled connection back and
        # forth cost two calls into the driver per session).
        self.read_engine = make_engine(url, autocommit=True)
        self._read_sessions = sessionmaker(self.read_engine, future=True)

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()
        self.read_engine.dispose()

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
