"""The database file: in use, not a database, damaged, older or newer than this cfgmon."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest
from dblock import held_by_another_process
from sample_inventory import build_sample_inventory

from cfgmon.errors import DatabaseError
from cfgmon.store import database, open_database

from .faultrun import rows

FIXTURES = Path(__file__).parent / "fixtures"
HEADER_BYTES = 3 * 4096  # DuckDB's file header; block N starts after it
TRAIL_ARN = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/old"
# Every command that opens the database, with what it needs besides --db.
COMMANDS = {
    "collect": ("collect", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"),
    "check": ("check",),
    "sql": ("sql", "SELECT count(*) FROM aws_sns_topic_subscription WHERE endpoint LIKE '%@%'"),
    "export": ("export", "--csv", "{tmp}/out"),
}


def run_each(cli, db: Path, tmp_path: Path) -> dict[str, object]:
    results = {}
    for name, args in COMMANDS.items():
        args = [a.format(tmp=tmp_path) for a in args]
        results[name] = cli(args[0], "--db", str(db), *args[1:])
    return results


def assert_one_line(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stderr.startswith("cfgmon: error: ") and result.stderr.count("\n") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


# -- in use ----------------------------------------------------------------------------


def test_a_database_held_by_another_process_is_in_use(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "busy.duckdb")
    with held_by_another_process(db):
        for name, result in run_each(cli, db, tmp_path).items():
            assert_one_line(result, f"database {db} is in use by another cfgmon process")
            assert name != "export" or not (tmp_path / "out").exists()
    # Released, the same file works again.
    assert cli("sql", "--db", str(db), "SELECT 1").exit_code == 0


# -- not a database, damaged -------------------------------------------------------------


def _text_file(path: Path) -> None:
    path.write_text("account_id,status\n111111111111,COMPLIANT\n")


def _sqlite_file(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (text)")
    con.commit()
    con.close()


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("make, fragment", [
    (_text_file, "is not a DuckDB database file"),
    (_sqlite_file, "is a SQLite database, not a DuckDB database"),
    (_empty_file, "is an empty file, not a DuckDB database"),
], ids=["text", "sqlite", "empty"])
def test_a_file_that_is_not_a_duckdb_database(cli, tmp_path, make, fragment):
    db = tmp_path / "notes.db"
    make(db)
    before = db.read_bytes()
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"{db} {fragment}")
    assert db.read_bytes() == before  # nothing was written into someone else's file


def test_a_duckdb_database_that_cfgmon_did_not_create(cli, tmp_path):
    db = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE orders AS SELECT 1 AS id")
    con.close()
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, "is a DuckDB database that cfgmon did not create")
    assert rows(db, "SELECT table_name FROM duckdb_tables()") == [{"table_name": "orders"}]


def test_a_truncated_database_is_damaged(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "cut.duckdb")
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"database {db} is damaged (", "restore it from a copy")


def test_a_database_whose_file_shrank_at_a_checkpoint_is_not_damaged(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "shrunk.duckdb")
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE scratch AS SELECT md5(i::VARCHAR) || i AS s FROM range(300000) r(i)")
    con.execute("CHECKPOINT")
    grown = db.stat().st_size
    con.execute("DROP TABLE scratch")
    con.execute("CHECKPOINT")  # frees the last blocks: DuckDB truncates the file
    con.close()
    assert db.stat().st_size < grown
    result = cli("sql", "--db", str(db), "--format", "json", "SELECT count(*) AS n FROM aws_cloudtrail_trail")
    assert result.exit_code == 0, result.stderr
    assert "damaged" not in result.stderr


def test_damage_found_while_reading_is_one_line(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "damaged.duckdb")
    con = duckdb.connect(str(db))
    # Enough rows to fill storage blocks of their own, in a table the control reads.
    con.execute(
        "INSERT INTO aws_sns_topic_subscription SELECT '111111111111', 'us-east-1', now(), "
        "'arn:sub:' || md5(i::VARCHAR) || i, 'arn:aws:sns:us-east-1:111111111111:' || md5(i::VARCHAR), "
        "md5((i * 3)::VARCHAR), 'email', md5((i * 5)::VARCHAR) || '@example.com', false, "
        "json_object('x', md5(i::VARCHAR)) FROM range(60000) r(i)"
    )
    con.execute("CHECKPOINT")
    [(block_size,)] = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()
    blocks = sorted({block for (block,) in con.execute(
        "SELECT block_id FROM pragma_storage_info('aws_sns_topic_subscription') "
        "WHERE persistent AND block_id >= 0 "
        "AND column_name IN ('topic_arn', 'endpoint', 'pending_confirmation')").fetchall()})
    con.close()
    assert blocks
    data = bytearray(db.read_bytes())
    for block in blocks:  # past the checksum at the start of each block
        start = HEADER_BYTES + block * block_size + 8
        data[start:start + 4096] = bytes(b ^ 0x5A for b in data[start:start + 4096])
    db.write_bytes(bytes(data))

    results = run_each(cli, db, tmp_path)
    for name in ("check", "sql", "export"):
        assert_one_line(results[name], "Corrupt database file: computed checksum")
    assert "Traceback" not in "".join(r.stderr for r in results.values())


def test_damage_found_mid_command_names_the_database_as_damaged():
    error = database.damage_error(
        duckdb.Error("Corrupt database file: computed checksum 1 does not match stored checksum 2"),
        "x.duckdb")
    assert str(error) == (
        "database x.duckdb is damaged (Corrupt database file: computed checksum 1 does not "
        "match stored checksum 2); restore it from a copy or collect into a new file")
    assert database.damage_error(duckdb.Error("Catalog Error: Table with name t does not exist")) is None
    assert database.damage_error(ValueError("checksum")) is None


# -- versions ------------------------------------------------------------------------------


def write_version_1_database(path: Path) -> Path:
    """A database as cfgmon's first schema wrote it (fixtures/schema_v1.sql), with one trail."""
    con = duckdb.connect(str(path))
    con.execute((FIXTURES / "schema_v1.sql").read_text())
    con.execute("INSERT INTO cfgmon_schema VALUES (1, TIMESTAMP '2025-01-01 00:00:00')")
    con.execute(
        "INSERT INTO aws_cloudtrail_trail (account_id, region, collected_at, arn, name, home_region, "
        "is_multi_region_trail, is_logging) VALUES ('111111111111', 'eu-west-1', "
        "TIMESTAMP '2025-01-01 00:00:00', ?, 'old', 'eu-west-1', true, true)", [TRAIL_ARN])
    con.close()
    return path


def columns(db: Path, table: str) -> list[str]:
    return [r["column_name"] for r in rows(
        db, "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table])]


def test_the_version_1_fixture_is_what_it_claims():
    assert "detail_error" not in (FIXTURES / "schema_v1.sql").read_text()
    assert "cfgmon_catalogue_value" not in (FIXTURES / "schema_v1.sql").read_text()


def test_a_version_1_database_is_migrated_on_open(tmp_path):
    db = write_version_1_database(tmp_path / "v1.duckdb")
    assert "detail_error" not in columns(db, "aws_cloudtrail_trail")

    open_database(db).close()

    assert "detail_error" in columns(db, "aws_cloudtrail_trail")
    assert [r["version"] for r in rows(db, "SELECT version FROM cfgmon_schema ORDER BY version")] == [
        1, database.SCHEMA_VERSION]
    # Rows survive; the new column is empty; the primary key still holds.
    assert rows(db, "SELECT arn, name, detail_error FROM aws_cloudtrail_trail") == [
        {"arn": TRAIL_ARN, "name": "old", "detail_error": None}]
    assert rows(db, "SELECT count(*) AS n FROM cfgmon_catalogue_value") == [{"n": 0}]
    con = open_database(db)
    try:
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO aws_cloudtrail_trail (account_id, region, collected_at, arn, "
                        "name, home_region) SELECT account_id, region, collected_at, arn, name, "
                        "home_region FROM aws_cloudtrail_trail")
    finally:
        con.close()
    # The migrated table has every column a new database has.
    fresh = tmp_path / "fresh.duckdb"
    open_database(fresh).close()
    assert sorted(columns(db, "aws_cloudtrail_trail")) == sorted(columns(fresh, "aws_cloudtrail_trail"))


def test_a_read_only_command_migrates_too(cli, tmp_path):
    db = write_version_1_database(tmp_path / "v1.duckdb")
    result = cli("sql", "--db", str(db), "--format", "csv",
                 "SELECT name, detail_error IS NULL AS no_error FROM aws_cloudtrail_trail")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["name,no_error", "old,True"]
    assert rows(db, "SELECT max(version) AS v FROM cfgmon_schema") == [{"v": database.SCHEMA_VERSION}]


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    db = write_version_1_database(tmp_path / "v1.duckdb")
    broken = database.Migration(2, "a step that fails half-way", (
        "ALTER TABLE aws_cloudtrail_trail ADD COLUMN detail_error VARCHAR",
        "ALTER TABLE no_such_table ADD COLUMN x VARCHAR",
    ))
    monkeypatch.setattr(database, "MIGRATIONS", (broken,))
    with pytest.raises(DatabaseError, match=f"cannot migrate {db} from schema version 1 to 2: "):
        open_database(db)
    assert "detail_error" not in columns(db, "aws_cloudtrail_trail")
    assert rows(db, "SELECT max(version) AS v FROM cfgmon_schema") == [{"v": 1}]


def test_migrations_are_one_ordered_list_ending_at_the_schema_version():
    versions = [m.version for m in database.MIGRATIONS]
    assert versions == sorted(set(versions))
    assert versions[-1] == database.SCHEMA_VERSION
    assert all(m.summary and m.statements for m in database.MIGRATIONS)


def test_a_database_from_a_newer_cfgmon_is_refused(cli, tmp_path):
    db = tmp_path / "future.duckdb"
    open_database(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO cfgmon_schema VALUES (99, now())")
    con.close()
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"{db} was written by a newer cfgmon (schema version 99; "
                                f"this one knows up to {database.SCHEMA_VERSION}): upgrade cfgmon")

