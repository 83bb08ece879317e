"""Alembic environment: runs migrations on the URL set by bot.db.migrate."""

from __future__ import annotations

from alembic import context

from bot.db.models import Base
from bot.db.session import make_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Runs the migrations in one transaction."""
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
