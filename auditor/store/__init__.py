"""What the tool observes and what people decide, in SQLite (default) or PostgreSQL."""

from auditor.store.db import Store, open_store

__all__ = ["Store", "open_store"]
