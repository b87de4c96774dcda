"""Alembic environment: runs on the engine the auditor hands over (see auditor.store.db)."""

from alembic import context
from sqlmodel import SQLModel

import auditor.store.tables  # noqa: F401  (registers the tables)

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
