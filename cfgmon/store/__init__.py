"""The DuckDB inventory: one schema file, opening, migrating, replacing a scope."""

from cfgmon.store.database import DEFAULT_DB, open_database, resolve_db_path

__all__ = ["DEFAULT_DB", "open_database", "resolve_db_path"]
