"""Ad-hoc, read-only SQL over the inventory, and a description of its tables.

Three layers keep `cfgmon sql` from changing anything: DuckDB's own parser splits
the text into statements and names their kind, sqlglot classifies each statement
(and what it nests), and the database is opened read-only as a backstop. Both
classifiers must agree that a statement only reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from cfgmon.errors import CfgmonError, QueryError
from cfgmon.store.database import open_database, resolve_db_path, schema_sql

Row = dict[str, Any]

# sqlglot expression types that only read. Anything else (INSERT, COPY, ATTACH,
# SET, INSTALL, CREATE, PRAGMA ...) is refused.
READ_ONLY_EXPRESSIONS: tuple[type[exp.Expression], ...] = (
    exp.Query,  # SELECT, FROM-first SELECT, UNION / INTERSECT / EXCEPT, subqueries
    exp.Values,
    exp.Describe,
    exp.Show,
    exp.Summarize,
    exp.Pivot,
)

# Nested nodes that write, whatever statement they hide in.
WRITE_EXPRESSIONS: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Set,
    exp.Use,
)

# DuckDB statement kinds that only read (EXPLAIN only when what it explains reads).
READ_ONLY_STATEMENT_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}

UDF_NAME = "filter_pattern_matches"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[Row]


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    description: str = ""


@dataclass(frozen=True)
class TableInfo:
    name: str
    description: str
    columns: list[ColumnInfo]
    rows: int | None = None
    primary_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableDoc:
    """What schema.sql's comments say about one table."""

    description: str
    columns: dict[str, str] = field(default_factory=dict)


# -- opening -------------------------------------------------------------------------


def open_for_query(db=None) -> duckdb.DuckDBPyConnection:
    """The inventory opened read-only, with cfgmon's SQL functions registered."""
    con = open_database(db, read_only=True)
    register_functions(con)
    return con


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Add `filter_pattern_matches(pattern, event)` to this connection.

    DuckDB's Python UDFs need numpy; without it the function is absent and a query
    that calls it gets a message saying so.
    """
    if importlib.util.find_spec("numpy") is None:
        return
    con.create_function(
        UDF_NAME,
        _guarded(_filter_pattern_matches),
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("BOOLEAN"),
        side_effects=False,
    )


def _filter_pattern_matches(pattern: str, event: str) -> bool:
    try:
        from cfgmon import patterns
        matches = patterns.matches
    except (ImportError, AttributeError):
        raise QueryError(
            f"{UDF_NAME} needs the pattern engine (cfgmon.patterns.matches), "
            "which this installation does not have"
        ) from None
    return bool(matches(pattern, event))


class _UdfFailure:
    """The first exception a Python UDF raised during a query, so the caller can report
    it rather than DuckDB's wrapped text. Process-wide, because DuckDB may call UDFs
    from its worker threads; queries on one connection run one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failure: tuple[Exception, tuple] | None = None

    def record(self, exc: Exception, args: tuple) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = (exc, args)

    def take(self) -> tuple[Exception, tuple] | None:
        with self._lock:
            failure, self._failure = self._failure, None
            return failure


_udf_failure = _UdfFailure()


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)  # DuckDB counts the parameters through __wrapped__
    def call(*args):
        try:
            return fn(*args)
        except Exception as exc:
            _udf_failure.record(exc, args)
            raise

    return call


# -- classifying ---------------------------------------------------------------------


def check_read_only(sql: str) -> list[str]:
    """The statements of `sql`, each checked to only read; QueryError otherwise."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(
            f"bad SQL: {_duckdb_message(exc).removeprefix('Parser Error: ')}"
        ) from None
    if not statements:
        raise QueryError("no SQL statement given")
    texts = []
    for statement in statements:
        text = statement.query.strip().rstrip(";").strip()
        kind = _sqlglot_kind(text)
        if kind is None and statement.type not in READ_ONLY_STATEMENT_TYPES:
            kind = statement.type.name.replace("_", " ")
        if kind is not None:
            raise QueryError(
                f"cfgmon sql only reads: {kind} statements are refused "
                f"(the database is opened read-only): {_snippet(text)}"
            )
        texts.append(text)
    return texts


def _sqlglot_kind(text: str) -> str | None:
    """None when sqlglot sees a read-only statement, else the kind of statement it is."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is expected
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.SqlglotError:
        # Newer DuckDB syntax than sqlglot knows: DuckDB's own classification decides.
        return None
    finally:
        logger.setLevel(level)
    if isinstance(tree, exp.Command):
        name = str(tree.this).upper()
        if name == "EXPLAIN":
            explained = tree.expression.name if tree.expression else ""
            rest = re.sub(r"^\s*ANALY[SZ]E\b", "", explained, flags=re.I)
            return _sqlglot_kind(rest)
        return name
    if not isinstance(tree, READ_ONLY_EXPRESSIONS):
        if isinstance(tree, exp.Column | exp.Identifier | exp.Literal):  # a bare keyword
            return text.split(maxsplit=1)[0].upper()
        return tree.key.upper()
    nested = tree.find(*WRITE_EXPRESSIONS)
    return nested.key.upper() if nested is not None else None


# -- running -------------------------------------------------------------------------


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    """Run read-only SQL; the result of its last statement."""
    statements = check_read_only(sql)
    result = None
    for text in statements:
        result = _execute(con, text)
    return result


def query_database(db, sql: str) -> QueryResult:
    """Open the database at `db` read-only, run `sql`, close it."""
    statements = check_read_only(sql)  # refuse before touching the file
    con = open_for_query(db)
    try:
        return run_query(con, ";\n".join(statements))
    finally:
        con.close()


def _execute(con: duckdb.DuckDBPyConnection, text: str) -> QueryResult:
    _udf_failure.take()  # nothing left over from an earlier query
    try:
        cursor = con.execute(text)
        description = cursor.description or []
        fetched = cursor.fetchall() if description else []
    except duckdb.Error as exc:
        failure = _udf_failure.take()
        if failure is not None:
            raise _udf_error(failure) from None
        raise _query_error(con, exc) from None
    columns = _unique([d[0] for d in description])
    json_columns = {i for i, d in enumerate(description) if str(d[1]).upper() == "JSON"}
    rows = [
        {
            column: _plain(value, i in json_columns)
            for i, (column, value) in enumerate(zip(columns, row, strict=True))
        }
        for row in fetched
    ]
    return QueryResult(columns, rows)


def _udf_error(failure: tuple[Exception, tuple]) -> QueryError:
    exc, args = failure
    if isinstance(exc, QueryError):
        return exc
    pattern = str(args[0]) if args else ""
    pattern = pattern if len(pattern) <= 80 else pattern[:79] + "…"  # columns stay true
    if isinstance(exc, CfgmonError):  # PatternError: a pattern AWS would reject
        return QueryError(f"{UDF_NAME}: invalid filter pattern {pattern!r}: {exc}")
    return QueryError(f"{UDF_NAME}({pattern!r}, …) failed: {type(exc).__name__}: {exc}")


_UNKNOWN_TABLE = re.compile(r"Table with name (\S+) does not exist")
_DID_YOU_MEAN = re.compile(r'Did you mean "([^"]+)"')


def _query_error(con: duckdb.DuckDBPyConnection, exc: duckdb.Error) -> QueryError:
    text = str(exc)
    unknown = _UNKNOWN_TABLE.search(text)
    if isinstance(exc, duckdb.CatalogException) and unknown:
        hint = _DID_YOU_MEAN.search(text)
        suggestion = f" (did you mean {hint.group(1)}?)" if hint else ""
        return QueryError(
            f"unknown table {unknown.group(1)}{suggestion}; "
            f"the tables are: {', '.join(table_names(con))}"
        )
    if isinstance(exc, duckdb.CatalogException) and f"Function with name {UDF_NAME} " in text:
        return QueryError(f"{UDF_NAME} is unavailable: DuckDB's Python functions need numpy")
    if isinstance(exc, duckdb.ParserException):
        return QueryError(f"bad SQL: {_duckdb_message(exc).removeprefix('Parser Error: ')}")
    return QueryError(_duckdb_message(exc))


def _duckdb_message(exc: duckdb.Error) -> str:
    """DuckDB's message on one line, without the echoed query and caret."""
    lines = []
    for line in str(exc).strip().splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count + 1}")
    return out


def _plain(value: Any, is_json: bool) -> Any:
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _snippet(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# -- describing tables ---------------------------------------------------------------


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "AND NOT temporary ORDER BY table_name"
        ).fetchall()
    ]


def describe_tables(con: duckdb.DuckDBPyConnection, *, count_rows: bool = True) -> list[TableInfo]:
    """Every table with its columns (from the catalogue) and descriptions (from schema.sql)."""
    docs = schema_docs()
    columns: dict[str, list[ColumnInfo]] = {}
    for table, name, data_type, nullable in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT internal ORDER BY table_name, column_index"
    ).fetchall():
        doc = docs.get(table, TableDoc(""))
        columns.setdefault(table, []).append(
            ColumnInfo(name, data_type, bool(nullable), doc.columns.get(name, ""))
        )
    primary_keys = {
        table: tuple(names)
        for table, names in con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = 'main' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    tables = []
    for table in table_names(con):
        rows = None
        if count_rows:
            rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        description = docs.get(table, TableDoc("")).description
        tables.append(
            TableInfo(table, description, columns.get(table, []), rows, primary_keys.get(table, ()))
        )
    return tables


def describe_database(db=None) -> list[TableInfo]:
    """The tables of the database at `db`, or of cfgmon's schema when there is no file yet."""
    path = resolve_db_path(db)
    if path.exists():
        con = open_database(path, read_only=True)
    else:
        con = duckdb.connect()
        con.execute(schema_sql())
    try:
        return describe_tables(con, count_rows=path.exists())
    finally:
        con.close()


def find_table(tables: list[TableInfo], name: str) -> TableInfo:
    for table in tables:
        if table.name == name.lower():
            return table
    raise QueryError(
        f"unknown table {name}; the tables are: {', '.join(t.name for t in tables)}"
    )


_CREATE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_COLUMN_COMMENT = re.compile(r"^\s+(\w+)\s+[^-]*?--\s*(.+?)\s*$")


def schema_docs(text: str | None = None) -> dict[str, TableDoc]:
    """Descriptions from schema.sql: the comment block right above each CREATE TABLE,
    and the comment at the end of a column's line."""
    docs: dict[str, TableDoc] = {}
    block: list[str] = []
    table: str | None = None
    for line in (schema_sql() if text is None else text).splitlines():
        stripped = line.strip()
        if table is not None:
            if stripped.startswith(")"):
                table = None
                continue
            column = _COLUMN_COMMENT.match(line)
            if column and not stripped.startswith("--"):
                docs[table].columns[column.group(1)] = column.group(2)
            continue
        created = _CREATE.match(line)
        if created:
            table = created.group(1).lower()
            docs[table] = TableDoc(" ".join(block))
            block = []
        elif stripped.startswith("--"):
            if stripped.lstrip("-").strip():
                block.append(stripped.lstrip("-").strip())
        else:
            block = []
    return docs
