"""DuckDB SQL rewritten for another engine's dialect, by sqlglot.

The control queries are written for DuckDB; `transpile` hands the same logic to a
warehouse that holds the exported tables (PostgreSQL, Trino/Athena, Snowflake,
BigQuery, Spark).
"""

from __future__ import annotations

import logging

import sqlglot
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, UnsupportedError

from cfgmon.errors import QueryError, UsageError

SOURCE_DIALECT = "duckdb"

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


def transpile(sql: str, dialect: str, *, pretty: bool = True) -> str:
    """`sql`, written for DuckDB, in `dialect`; statements end with ';'.

    UsageError for an unknown dialect; QueryError when the SQL cannot be parsed or
    uses something the target cannot express.
    """
    target = dialect_name(dialect)
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # unsupported constructs raise instead of logging
    try:
        statements = sqlglot.transpile(
            sql,
            read=SOURCE_DIALECT,
            write=target,
            pretty=pretty,
            unsupported_level=ErrorLevel.RAISE,
        )
    except ParseError as exc:
        raise QueryError(f"cannot parse the SQL: {_first_line(exc)}") from None
    except UnsupportedError as exc:
        raise QueryError(f"cannot express the SQL in {dialect}: {_first_line(exc)}") from None
    except SqlglotError as exc:
        raise QueryError(f"cannot transpile to {dialect}: {_first_line(exc)}") from None
    finally:
        logger.setLevel(level)
    return "".join(f"{statement};\n" for statement in statements if statement.strip())


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
