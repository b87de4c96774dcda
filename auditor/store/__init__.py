"""What the tool observes and what people decide, in SQLite (default) or PostgreSQL (auditor.store.db opens it)."""
