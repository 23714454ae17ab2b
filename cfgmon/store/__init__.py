"""The DuckDB inventory: one schema file, opening, migrating, replacing a scope."""

from cfgmon.lazy import lazy_names

# Each name is imported from its module on first use: importing a light module of
# this package (cfgmon.store.keys, in a collecting worker) does not load DuckDB.
__getattr__, __all__ = lazy_names(__name__, {
    "DEFAULT_DB": "cfgmon.store.database",
    "collecting_database": "cfgmon.store.database",
    "open_database": "cfgmon.store.database",
    "resolve_db_path": "cfgmon.store.database",
    "SERVICE_TABLES": "cfgmon.store.scope",
    "InventoryWriter": "cfgmon.store.scope",
    "ScopeFailure": "cfgmon.store.keys",
    "ScopeKey": "cfgmon.store.keys",
})
