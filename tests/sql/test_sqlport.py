"""cfgmon.sqlport.transpile: DuckDB SQL in other engines' dialects."""

from __future__ import annotations

import pytest
import sqlglot

from cfgmon.errors import QueryError, UsageError
from cfgmon.sqlport import DIALECTS, transpile

QUERY = """
SELECT t.account_id, count(*) AS trails, bool_or(t.is_logging) AS any_logging
FROM aws_cloudtrail_trail AS t
JOIN aws_cloudwatch_log_group AS g
  ON g.account_id = t.log_group_account_id AND g.region = t.log_group_region
 AND g.name = t.log_group_name
WHERE t.is_multi_region_trail AND t.name ILIKE '%main%'
GROUP BY t.account_id
ORDER BY t.account_id
"""


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_gives_sql_its_engine_parses(dialect):
    text = transpile(QUERY, dialect)
    assert text.endswith(";\n")
    [tree] = sqlglot.parse(text.rstrip().rstrip(";"), read=DIALECTS[dialect])
    assert tree.find(sqlglot.exp.Join) is not None


def test_postgres_rewrites_duckdb_only_syntax():
    text = transpile("SELECT list_value(1, 2) AS xs, 'a' || 'b' AS ab FROM t", "postgres")
    assert "ARRAY[1, 2]" in text
    assert transpile("SELECT 1", "PostgreSQL") == transpile("SELECT 1", "postgres")


def test_several_statements():
    assert transpile("SELECT 1; SELECT 2", "trino", pretty=False) == "SELECT 1;\nSELECT 2;\n"


def test_unknown_dialect_lists_the_choices():
    with pytest.raises(UsageError) as error:
        transpile("SELECT 1", "oracle")
    assert "unknown dialect 'oracle'" in str(error.value)
    for name in ("postgres", "trino", "athena", "snowflake", "bigquery", "spark", "duckdb"):
        assert name in str(error.value)


def test_unparseable_sql():
    with pytest.raises(QueryError, match="cannot parse"):
        transpile("SELECT (1", "postgres")


def test_postgres_json_paths_use_operators_that_take_jsonb():
    text = transpile(
        "SELECT raw->>'$.Name', raw->'$.Status', raw->>'$.A.B', raw->'$.L[0].C',"
        " json_extract_string(raw, '$.Arn') FROM t",
        "postgres",
        pretty=False,
    )
    assert text == (
        "SELECT raw ->> 'Name', raw -> 'Status', raw #>> '{\"A\",\"B\"}', "
        "raw #> '{\"L\",0,\"C\"}', raw ->> 'Arn' FROM t;\n"
    )


def test_spark_gets_the_ctes_read_twice_as_tables_of_their_own():
    """Spark plans a CTE anew at each place it is read; the one read twice is written to
    a table first (and dropped after the query), the one read once stays a CTE."""
    sql = ("WITH once AS (SELECT account_id FROM aws_cloudtrail_trail), "
           "twice AS (SELECT account_id FROM once) "
           "SELECT a.account_id FROM twice AS a JOIN twice ON twice.account_id = a.account_id")
    assert transpile(sql, "spark", pretty=False) == (
        "DROP TABLE IF EXISTS cfgmon_step_twice;\n"
        "CREATE TABLE cfgmon_step_twice AS WITH once AS (SELECT account_id FROM "
        "aws_cloudtrail_trail) SELECT account_id FROM once;\n"
        "SELECT a.account_id FROM cfgmon_step_twice AS a JOIN cfgmon_step_twice AS twice "
        "ON twice.account_id = a.account_id;\n"
        "DROP TABLE IF EXISTS cfgmon_step_twice;\n"
    )
    # other dialects plan a CTE once: the query stays one statement
    assert transpile(sql, "trino", pretty=False).count(";") == 1
