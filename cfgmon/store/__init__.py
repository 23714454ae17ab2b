"""The DuckDB inventory: one schema file, opening, migrating, replacing a scope."""

from cfgmon.store.database import (
    DEFAULT_DB,
    collecting_database,
    open_database,
    resolve_db_path,
)
from cfgmon.store.scope import SERVICE_TABLES, InventoryWriter, ScopeFailure, ScopeKey

__all__ = [
    "DEFAULT_DB",
    "SERVICE_TABLES",
    "InventoryWriter",
    "ScopeFailure",
    "ScopeKey",
    "collecting_database",
    "open_database",
    "resolve_db_path",
]
