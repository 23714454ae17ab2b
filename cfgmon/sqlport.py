"""DuckDB SQL rewritten for another engine's dialect, by sqlglot.

The control queries are written for DuckDB; `transpile` hands the same logic to a
warehouse that holds the exported tables (PostgreSQL, Trino/Athena, Snowflake,
BigQuery, Spark). What sqlglot's output gets wrong for a target, or what a target
cannot plan, is put right here, in the tables at the end of this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, UnsupportedError

from cfgmon.dialects import DIALECTS, dialect_name  # noqa: F401 (DIALECTS: callers read it here too)
from cfgmon.errors import QueryError

SOURCE_DIALECT = "duckdb"

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
            statement.sql(dialect=target, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
            for tree in sqlglot.parse(sql, read=SOURCE_DIALECT)
            if tree is not None
            for statement in _rewrite(tree, target)
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


# What a CTE a query reads more than once is called once it is a table of its own (a
# name no exported table has).
STEP_PREFIX = "cfgmon_step_"


def _shared_ctes_as_tables(tree: exp.Expression) -> list[exp.Expression]:
    """The statement as a script in which every CTE read more than once is first
    written to a table of its own, and the tables are dropped after the query.

    Spark inlines a deterministic CTE at each of its references and analyses,
    optimises and runs every copy apart; the alarm chain, whose later steps read its
    ranked chains several times over, would be planned for many minutes. A cached view
    does not help: a view is expanded in full wherever it is read before its cache is
    looked up. A table is read as data, so each statement is planned over the few
    relations it names. A CTE read once stays a CTE of the statement that reads it.
    """
    with_ = tree.args.get("with_")
    if with_ is None or with_.args.get("recursive"):
        return [tree]
    reads = {cte.alias: 0 for cte in with_.expressions}
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name in reads:
            reads[table.name] += 1
    shared = {name for name, count in reads.items() if count > 1}
    if not shared:
        return [tree]
    tree = tree.copy()
    ctes = {cte.alias: cte for cte in tree.args["with_"].expressions}
    for table in list(tree.find_all(exp.Table)):
        if not table.args.get("db") and table.name in shared:
            table.replace(exp.to_table(STEP_PREFIX + table.name).as_(table.alias or table.name))
    tree.set("with_", None)

    def with_own_ctes(query: exp.Expression) -> exp.Expression:
        """`query` with the unshared CTEs it reads, directly or through each other."""
        needed: set[str] = set()
        pending = [query]
        while pending:
            for table in pending.pop().find_all(exp.Table):
                name = table.name
                if not table.args.get("db") and name in ctes and name not in shared | needed:
                    needed.add(name)
                    pending.append(ctes[name].this)
        own = [ctes[name] for name in ctes if name in needed]  # in the query's order
        if own:
            query.set("with_", exp.With(expressions=[cte.copy() for cte in own]))
        return query

    steps = [exp.to_table(STEP_PREFIX + name) for name in ctes if name in shared]

    def drops() -> list[exp.Expression]:
        return [exp.Drop(tables=[step.copy()], kind="TABLE", exists=True) for step in steps]

    creates = [
        exp.Create(this=step.copy(), kind="TABLE",
                   expression=with_own_ctes(ctes[step.name.removeprefix(STEP_PREFIX)].this.copy()))
        for step in steps
    ]
    return [*drops(), *creates, with_own_ctes(tree), *drops()]


# Adjustments made to the tree before generating SQL for a target, by sqlglot dialect.
REWRITES: dict[str, list[Callable[[exp.Expression], exp.Expression]]] = {
    "postgres": [_json_operators],
}
# Statements a target runs in place of one, by sqlglot dialect (after REWRITES).
SPLITS: dict[str, Callable[[exp.Expression], list[exp.Expression]]] = {
    "spark": _shared_ctes_as_tables,
}


def _rewrite(tree: exp.Expression, target: str) -> list[exp.Expression]:
    for rewrite in REWRITES.get(target, []):
        tree = rewrite(tree)
    split = SPLITS.get(target)
    return split(tree) if split else [tree]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
