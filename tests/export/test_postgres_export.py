"""`cfgmon export --postgres`: every table in a real PostgreSQL, types mapped, idempotent."""

from __future__ import annotations

import json

import duckdb
import pytest
from dbrows import table_counts
from sample_inventory import BAD, GOOD, build_sample_inventory

from cfgmon.errors import DatabaseError
from cfgmon.export import export_postgres, postgres_type
from cfgmon.sqlport import transpile
from cfgmon.store.database import open_database

psycopg = pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[dev]')")


@pytest.fixture
def db(tmp_path):
    return build_sample_inventory(tmp_path / "inventory.duckdb")


_duckdb_counts = table_counts


def _pg_counts(dsn, schema="cfgmon") -> dict[str, int]:
    with psycopg.connect(dsn) as pg:
        names = [
            r[0]
            for r in pg.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [schema],
            ).fetchall()
        ]
        return {n: pg.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}


def test_every_table_and_row_arrives(cli, db, postgres_dsn):
    result = cli("export", "--db", str(db), "--postgres", postgres_dsn)
    assert result.exit_code == 0, result.stderr
    counts = _duckdb_counts(db)
    assert _pg_counts(postgres_dsn) == counts
    assert "schema cfgmon of postgresql://cfgmon@127.0.0.1:" in result.stdout
    assert f"({sum(counts.values())} rows)" in result.stdout


def test_column_types_and_keys(db, postgres_dsn):
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
    with psycopg.connect(postgres_dsn) as pg:
        types = dict(
            pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'cfgmon' AND table_name = 'aws_cloudwatch_alarm'"
            ).fetchall()
        )
        key = pg.execute(
            "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i "
            "CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = 'cfgmon.aws_cloudwatch_alarm'::regclass AND i.indisprimary"
        ).fetchone()[0]
        not_null = pg.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'cfgmon' "
            "AND table_name = 'aws_cloudwatch_alarm' AND column_name = 'arn'"
        ).fetchone()[0]
    assert types["account_id"] == "text"
    assert types["collected_at"] == "timestamp without time zone"
    assert types["actions_enabled"] == "boolean"
    assert types["period"] == "integer"
    assert types["threshold"] == "double precision"
    assert types["raw"] == "jsonb"
    assert key == ["account_id", "region", "arn"]
    assert not_null == "NO"


def test_values_round_trip(db, postgres_dsn):
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
        columns = [r[0] for r in con.execute("DESCRIBE aws_cloudtrail_trail").fetchall()]
        expected = con.execute(
            f"SELECT {', '.join(columns)} FROM aws_cloudtrail_trail ORDER BY arn"
        ).fetchall()
    with psycopg.connect(postgres_dsn) as pg:
        loaded = pg.execute(
            f"SELECT {', '.join(columns)} FROM cfgmon.aws_cloudtrail_trail ORDER BY arn"
        ).fetchall()
    assert len(loaded) == len(expected) == 3
    json_columns = {"status", "event_selectors", "advanced_event_selectors", "raw"}
    for want, got in zip(expected, loaded, strict=True):
        for name, w, g in zip(columns, want, got, strict=True):
            if name in json_columns and w is not None:
                assert json.loads(w) == g, name   # jsonb comes back parsed
            else:
                assert w == g, name
    assert {row[columns.index("account_id")] for row in loaded} == {GOOD, BAD}


def test_exporting_again_replaces_and_keeps_views(db, postgres_dsn):
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
    with psycopg.connect(postgres_dsn) as pg:
        pg.execute(
            "CREATE VIEW public.logging_trails AS "
            "SELECT arn FROM cfgmon.aws_cloudtrail_trail WHERE is_logging"
        )
    with duckdb.connect(str(db)) as con:
        con.execute(f"DELETE FROM aws_cloudtrail_trail WHERE account_id = '{BAD}'")
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
        export_postgres(con, postgres_dsn)
    assert _pg_counts(postgres_dsn) == _duckdb_counts(db)
    with psycopg.connect(postgres_dsn) as pg:
        assert pg.execute("SELECT count(*) FROM public.logging_trails").fetchone() == (1,)


def test_a_changed_table_is_recreated(db, postgres_dsn):
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
    with psycopg.connect(postgres_dsn) as pg:
        pg.execute("ALTER TABLE cfgmon.aws_sns_topic ADD COLUMN extra text")
        pg.execute("ALTER TABLE cfgmon.aws_sns_topic ALTER COLUMN name TYPE varchar(500)")
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
    with psycopg.connect(postgres_dsn) as pg:
        columns = pg.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'cfgmon' AND table_name = 'aws_sns_topic' ORDER BY ordinal_position"
        ).fetchall()
    assert ("extra", "text") not in columns
    assert ("name", "text") in columns
    assert _pg_counts(postgres_dsn)["aws_sns_topic"] == 2


def test_one_transaction_a_failure_changes_nothing(db, postgres_dsn):
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
    with psycopg.connect(postgres_dsn) as pg:
        # A view on a table whose shape changed stops the DROP: the whole export fails.
        pg.execute("ALTER TABLE cfgmon.aws_sns_topic ADD COLUMN extra text")
        pg.execute("CREATE VIEW public.topics AS SELECT extra FROM cfgmon.aws_sns_topic")
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM aws_cloudtrail_trail")  # exported before aws_sns_topic
    with open_database(db, read_only=True) as con, pytest.raises(DatabaseError) as error:
        export_postgres(con, postgres_dsn)
    assert "PostgreSQL export failed" in str(error.value)
    assert "depend" in str(error.value)
    assert _pg_counts(postgres_dsn)["aws_cloudtrail_trail"] == 3


def test_unreachable_server_is_one_line(cli, db):
    result = cli("export", "--db", str(db), "--postgres", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: cannot connect to PostgreSQL")
    assert result.stderr.count("\n") == 1


def test_transpiled_query_gives_the_same_rows_on_postgres(db, postgres_dsn):
    query = """
        SELECT t.account_id, t.arn, s.endpoint
        FROM aws_cloudtrail_trail AS t
        JOIN aws_cloudwatch_log_group AS g
          ON g.account_id = t.log_group_account_id AND g.region = t.log_group_region
         AND g.name = t.log_group_name
        JOIN aws_sns_topic_subscription AS s ON s.account_id = t.account_id
        WHERE t.is_multi_region_trail AND NOT s.pending_confirmation
          AND t.raw->>'$.Name' = t.name AND t.status->>'IsLogging' = 'true'
          AND json_extract_string(t.raw, '$.TrailARN') = t.arn
          AND (t.raw->'$.Missing.Deeper') IS NULL
        ORDER BY t.account_id, t.arn
    """
    with open_database(db, read_only=True) as con:
        export_postgres(con, postgres_dsn)
        expected = con.execute(query).fetchall()
    with psycopg.connect(postgres_dsn, options="-c search_path=cfgmon") as pg:
        got = pg.execute(transpile(query, "postgres")).fetchall()
    assert got == expected
    assert expected == [
        (GOOD, f"arn:aws:cloudtrail:us-east-1:{GOOD}:trail/main", "sec@example.com")
    ]


@pytest.mark.parametrize(
    ("duckdb_type", "pg_type"),
    [
        ("VARCHAR", "text"),
        ("JSON", "jsonb"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("DECIMAL(18,3)", "numeric(18,3)"),
        ("VARCHAR[]", "jsonb"),
        ("STRUCT(a INTEGER)", "jsonb"),
        ("UBIGINT", "numeric(20,0)"),
        ("BIT", "text"),
    ],
)
def test_type_mapping(duckdb_type, pg_type):
    assert postgres_type(duckdb_type) == pg_type
