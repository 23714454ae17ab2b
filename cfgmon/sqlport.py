"""DuckDB SQL rewritten for another engine's dialect, by sqlglot.

The control queries are written for DuckDB; `transpile` hands the same logic to a
warehouse that holds the exported tables (PostgreSQL, Trino/Athena, Snowflake,
BigQuery, Spark).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlglot
from sqlglot import exp
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
        statements = [
            _rewrite(tree, target).sql(
                dialect=target, pretty=pretty, unsupported_level=ErrorLevel.RAISE
            )
            for tree in sqlglot.parse(sql, read=SOURCE_DIALECT)
            if tree is not None
        ]
    except ParseError as exc:
        raise QueryError(f"cannot parse the SQL: {_first_line(exc)}") from None
    except UnsupportedError as exc:
        raise QueryError(f"cannot express the SQL in {dialect}: {_first_line(exc)}") from None
    except SqlglotError as exc:
        raise QueryError(f"cannot transpile to {dialect}: {_first_line(exc)}") from None
    finally:
        logger.setLevel(level)
    return "".join(f"{statement};\n" for statement in statements if statement.strip())


def _json_operators(tree: exp.Expression) -> exp.Expression:
    """JSON paths as PostgreSQL's -> ->> #> #>> operators, which work on json and jsonb
    alike (`cfgmon export --postgres` makes JSON columns jsonb; json_extract_path and
    json_extract_path_text, sqlglot's default, take json only)."""
    for node in list(tree.find_all(exp.JSONExtract, exp.JSONExtractScalar)):
        segments = _path_segments(node.expression)
        if segments is None:
            continue
        if len(segments) == 1 and isinstance(segments[0], str):
            node.set("only_json_types", True)  # -> 'key' / ->> 'key'
            continue
        array = "{" + ",".join(_pg_array_item(segment) for segment in segments) + "}"
        scalar = isinstance(node, exp.JSONExtractScalar)
        operator = exp.JSONBExtractScalar if scalar else exp.JSONBExtract
        node.replace(operator(this=node.this, expression=exp.Literal.string(array)))
    return tree


def _path_segments(path: exp.Expression) -> list[str | int] | None:
    """The keys and indexes of a plain JSON path ($.a.b[0]); None for anything else."""
    if not isinstance(path, exp.JSONPath):
        return None
    segments: list[str | int] = []
    for part in path.expressions:
        if isinstance(part, exp.JSONPathRoot):
            continue
        plain_key = isinstance(part, exp.JSONPathKey) and isinstance(part.this, str)
        plain_index = isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int)
        if not (plain_key or plain_index):
            return None
        segments.append(part.this)
    return segments or None


def _pg_array_item(segment: str | int) -> str:
    if isinstance(segment, int):
        return str(segment)
    return '"' + segment.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Adjustments made to the tree before generating SQL for a target, by sqlglot dialect.
REWRITES: dict[str, list[Callable[[exp.Expression], exp.Expression]]] = {
    "postgres": [_json_operators],
}


def _rewrite(tree: exp.Expression, target: str) -> exp.Expression:
    for rewrite in REWRITES.get(target, []):
        tree = rewrite(tree)
    return tree


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
