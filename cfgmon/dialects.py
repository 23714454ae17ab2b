"""The SQL dialects cfgmon writes a control in (cfgmon.sqlport), by the names a user gives.

Apart from the transpiler so that the command line can name them without importing
sqlglot, which only `controls transpile` needs.
"""

from __future__ import annotations

from cfgmon.errors import UsageError

# cfgmon's dialect names → sqlglot's.
DIALECTS: dict[str, str] = {
    "postgres": "postgres",
    "trino": "trino",
    "athena": "athena",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "spark": "spark",
    "duckdb": "duckdb",
}

ALIASES = {"postgresql": "postgres", "pg": "postgres", "databricks": "spark"}


def dialect_name(dialect: str) -> str:
    """The sqlglot dialect for a user's name for it; UsageError listing the choices."""
    name = dialect.strip().lower()
    name = ALIASES.get(name, name)
    if name not in DIALECTS:
        raise UsageError(
            f"unknown dialect {dialect!r}; choose one of: {', '.join(DIALECTS)}"
        )
    return DIALECTS[name]
