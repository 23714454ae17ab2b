"""Statement classification for `cfgmon sql`, without the command line."""

from __future__ import annotations

import pytest

from cfgmon.errors import QueryError
from cfgmon.store.query import check_read_only


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "FROM aws_sns_topic",
        "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
        "SELECT 1 UNION ALL SELECT 2",
        "VALUES (1), (2)",
        "DESCRIBE aws_sns_topic",
        "SHOW TABLES",
        "SUMMARIZE aws_sns_topic",
        "EXPLAIN SELECT 1",
        "SELECT 1; SELECT 2;",
    ],
)
def test_reads_pass(sql):
    assert check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "CREATE OR REPLACE VIEW v AS SELECT 1",
        "ALTER TABLE t ADD COLUMN c INTEGER",
        "COPY (SELECT 1) TO 'x.parquet'",
        "EXPORT DATABASE 'dir'",
        "DETACH d",
        "USE other",
        "LOAD httpfs",
        "PRAGMA enable_profiling",
        "CHECKPOINT",
        "CALL dbgen(sf = 1)",
        "EXPLAIN ANALYZE UPDATE t SET a = 1",
    ],
)
def test_writes_and_side_effects_are_refused(sql):
    with pytest.raises(QueryError, match="only reads"):
        check_read_only(sql)


def test_empty_sql():
    with pytest.raises(QueryError, match="no SQL statement"):
        check_read_only("  ;  ")
