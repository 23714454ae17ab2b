"""`cfgmon export --parquet/--csv`: Hive-partitioned folders that DuckDB reads back."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbrows import table_counts
from sample_inventory import BAD, GOOD, build_sample_inventory

# Each reader's defaults: nothing tells it that account_id is text.
READERS = {
    "parquet": "read_parquet('{dir}/{table}/**/*.parquet', hive_partitioning = true{hint})",
    "csv": "read_csv('{dir}/{table}/**/*.csv', hive_partitioning = true{hint})",
}
# CSV has no types; the README tells CSV readers this much.
CSV_ACCOUNT_ID_IS_TEXT = ", types = {'account_id': 'VARCHAR'}"


@pytest.fixture
def db(tmp_path):
    return build_sample_inventory(tmp_path / "inventory.duckdb")


_tables = table_counts


def _read(out: Path, table: str, fmt: str, what: str = "count(*)", hint: str = "",
          where: str = ""):
    reader = READERS[fmt].format(dir=out, table=table, hint=hint)
    group = " GROUP BY ALL ORDER BY ALL" if "," in what else ""
    return duckdb.sql(f"SELECT {what} FROM {reader} {where}{group}").fetchall()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_table_reads_back_with_the_same_rows(cli, db, tmp_path, fmt):
    out = tmp_path / "lake"
    result = cli("export", "--db", str(db), f"--{fmt}", str(out))
    assert result.exit_code == 0, result.stderr
    counts = _tables(db)
    assert f"exported {len(counts)} tables ({sum(counts.values())} rows) to {out}" in result.stdout
    assert {p.name for p in out.iterdir()} == set(counts)
    for table, rows in counts.items():
        assert _read(out, table, fmt) == [(rows,)], table


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_partitioned_by_account_keeping_account_id_as_text(cli, db, tmp_path, fmt):
    out = tmp_path / "lake"
    assert cli("export", "--db", str(db), f"--{fmt}", str(out)).exit_code == 0
    trail = out / "aws_cloudtrail_trail"
    assert sorted(p.name for p in trail.iterdir()) == [f"account=acct-{BAD}", f"account=acct-{GOOD}"]
    hint = CSV_ACCOUNT_ID_IS_TEXT if fmt == "csv" else ""
    what = "typeof(account_id), account_id, account, count(*)"
    assert _read(out, "aws_cloudtrail_trail", fmt, what, hint) == [
        ("VARCHAR", BAD, f"acct-{BAD}", 2), ("VARCHAR", GOOD, f"acct-{GOOD}", 1)
    ]
    # The partition key prunes by account.
    assert _read(out, "aws_cloudtrail_trail", fmt, "account_id, count(*)", hint,
                 f"WHERE account = 'acct-{BAD}'") == [(BAD, 2)]
    # A table without account_id is one file.
    assert [p.name for p in (out / "cfgmon_pattern_coverage").iterdir()] == [f"data_0.{fmt}"]


def test_parquet_account_id_is_text_when_no_id_has_a_leading_zero(cli, db, tmp_path):
    """Readers type a partition by its values: ids like 111111111111 looked like numbers."""
    con = duckdb.connect(str(db))
    con.execute(f"DELETE FROM aws_cloudtrail_trail WHERE account_id = '{BAD}'")
    con.close()
    out = tmp_path / "lake"
    assert cli("export", "--db", str(db), "--parquet", str(out)).exit_code == 0
    assert _read(out, "aws_cloudtrail_trail", "parquet", "typeof(account_id), account_id") == [
        ("VARCHAR", GOOD)
    ]


def test_each_parquet_file_carries_its_account_id(cli, db, tmp_path):
    out = tmp_path / "lake"
    assert cli("export", "--db", str(db), "--parquet", str(out)).exit_code == 0
    for account in (BAD, GOOD):
        file = out / "aws_cloudtrail_trail" / f"account=acct-{account}" / "data_0.parquet"
        assert duckdb.sql(
            f"SELECT DISTINCT account_id FROM read_parquet('{file}', hive_partitioning = false)"
        ).fetchall() == [(account,)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_empty_tables_are_readable_with_their_columns(cli, db, tmp_path, fmt):
    out = tmp_path / "lake"
    assert cli("export", "--db", str(db), f"--{fmt}", str(out)).exit_code == 0
    reader = READERS[fmt].format(dir=out, table="aws_cloudwatch_alarm_metric", hint="")
    columns = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    assert columns[:4] == ["account_id", "region", "collected_at", "alarm_arn"]
    assert _read(out, "aws_cloudwatch_alarm_metric", fmt) == [(0,)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_exporting_again_replaces(cli, db, tmp_path, fmt):
    out = tmp_path / "lake"
    (out / "notes").mkdir(parents=True)  # something of the user's, left alone
    assert cli("export", "--db", str(db), f"--{fmt}", str(out)).exit_code == 0
    assert cli("export", "--db", str(db), f"--{fmt}", str(out)).exit_code == 0
    assert _read(out, "aws_cloudtrail_trail", fmt) == [(3,)]

    con = duckdb.connect(str(db))
    con.execute(f"DELETE FROM aws_cloudtrail_trail WHERE account_id = '{BAD}'")
    con.close()
    assert cli("export", "--db", str(db), f"--{fmt}", str(out)).exit_code == 0
    assert _read(out, "aws_cloudtrail_trail", fmt) == [(1,)]
    assert [p.name for p in (out / "aws_cloudtrail_trail").iterdir()] == [f"account=acct-{GOOD}"]
    assert (out / "notes").is_dir()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "staging folder left behind"


def test_export_target_that_is_a_file(cli, db, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = cli("export", "--db", str(db), "--parquet", str(target))
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.stderr


def test_exactly_one_target(cli, db, tmp_path):
    for args in ([], ["--parquet", str(tmp_path / "a"), "--csv", str(tmp_path / "b")]):
        result = cli("export", "--db", str(db), *args)
        assert result.exit_code == 2
        assert "exactly one of --parquet DIR, --csv DIR or --postgres DSN" in result.stderr


def test_missing_database(cli, tmp_path):
    result = cli("export", "--db", str(tmp_path / "none.duckdb"), "--parquet", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "no database at" in result.stderr
    assert not (tmp_path / "o").exists()
