"""The append-only, hash-chained ledger of imports, state changes and decisions."""
