"""The database file: in use, not a database, damaged, older or newer than this cfgmon."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pytest
from clirun import run_cli_process
from collectrun import collect_into
from dblock import held_by_another_process
from sample_inventory import build_sample_inventory

from cfgmon.aws import ClientFactory
from cfgmon.controls import resolve, run_controls
from cfgmon.errors import DatabaseError
from cfgmon.simulation import Seeder
from cfgmon.store import database, open_database

from .faultrun import rows

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

FIXTURES = Path(__file__).parent / "fixtures"
HEADER_BYTES = 3 * 4096  # DuckDB's file header; block N starts after it
TRAIL_ARN = "arn:aws:cloudtrail:eu-west-1:111111111111:trail/old"
# Every command that opens the database, with what it needs besides --db.
COMMANDS = {
    "collect": ("collect", "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"),
    "check": ("check",),
    "sql": ("sql", "SELECT count(*) FROM aws_sns_topic_subscription_attributes WHERE endpoint LIKE '%@%'"),
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

def test_a_database_held_by_another_writer_is_in_use(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "busy.duckdb")
    with held_by_another_process(db, "read-write") as holder:
        for name, result in run_each(cli, db, tmp_path).items():
            assert_one_line(result, f"database {db} is open in another process (PID {holder.pid}): "
                                    "close it, or wait for it to finish, and run again")
            assert name != "export" or not (tmp_path / "out").exists()
    # Released, the same file works again.
    assert cli("sql", "--db", str(db), "SELECT 1").exit_code == 0


def test_a_read_only_reader_stops_only_the_commands_that_write(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "read.duckdb")
    with held_by_another_process(db, "read-only") as holder:
        results = run_each(cli, db, tmp_path)
    for name in ("collect", "check"):
        assert_one_line(results[name],
                        f"database {db} is open in another process (PID {holder.pid}, read-only): ",
                        "`cfgmon check --no-record`", "`cfgmon export --parquet DIR`")
    assert results["sql"].exit_code == 0 and results["export"].exit_code == 0


def verdicts(result) -> list[tuple]:
    return [(r["account_id"], r["status"], r["reason"]) for r in json.loads(result.stdout)]


def test_check_no_record_runs_beside_a_reader_and_writes_nothing(cli, tmp_path):
    db = build_sample_inventory(tmp_path / "read.duckdb")
    con = duckdb.connect(str(db))
    # Nothing derived yet: the verdicts rest on coverage this check derives for itself.
    con.execute("DELETE FROM cfgmon_pattern_coverage; DELETE FROM cfgmon_catalogue_value")
    con.close()
    history = rows(db, "SELECT * FROM cfgmon_check_result ORDER BY ALL")
    before = db.read_bytes()
    with held_by_another_process(db, "read-only"):
        result = cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--no-record", "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert [v[:2] for v in verdicts(result)] == [("012345678901", "NON_COMPLIANT"),
                                                 ("111111111111", "COMPLIANT")]
    assert db.read_bytes() == before and not Path(f"{db}.wal").exists()
    assert rows(db, "SELECT * FROM cfgmon_check_result ORDER BY ALL") == history
    assert rows(db, "SELECT count(*) AS n FROM cfgmon_pattern_coverage") == [{"n": 0}]
    # The verdicts are those a recording check gives.
    recorded = cli("check", "--db", str(db), "--control", CONFIG_CONTROL, "--format", "json")
    assert verdicts(recorded) == verdicts(result)
    assert len(rows(db, "SELECT * FROM cfgmon_check_result")) == len(history) + 2


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


def test_a_file_one_byte_short_of_its_last_block_is_damaged(cli, tmp_path):
    """A file that holds every block DuckDB counts is trusted without a look at its
    storage; one byte fewer and the last block in use is incomplete."""
    db = build_sample_inventory(tmp_path / "cut.duckdb")
    blocks = block_counts(db)
    full = database._HEADER_BYTES + blocks["total_blocks"] * blocks["block_size"]
    assert db.stat().st_size == full and blocks["free_blocks"] == 0  # every block in use
    db.write_bytes(db.read_bytes()[:-1])
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"database {db} is damaged (", "it was cut short")


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
        "INSERT INTO aws_sns_topic_subscription_attributes (account_id, region, collected_at, "
        "topic_arn, subscription_arn, owner, protocol, endpoint, pending_confirmation, raw) "
        "SELECT '111111111111', 'us-east-1', now(), "
        "'arn:aws:sns:us-east-1:111111111111:' || md5(i::VARCHAR), 'arn:sub:' || md5(i::VARCHAR) || i, "
        "md5((i * 3)::VARCHAR), 'email', md5((i * 5)::VARCHAR) || '@example.com', false, "
        "json_object('x', md5(i::VARCHAR)) FROM range(60000) r(i)"
    )
    con.execute("CHECKPOINT")
    [(block_size,)] = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()
    blocks = sorted({block for (block,) in con.execute(
        "SELECT block_id FROM pragma_storage_info('aws_sns_topic_subscription_attributes') "
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


# -- in normal use ------------------------------------------------------------------------


def replace_subscriptions(db: Path, count: int) -> None:
    """Delete the bulk subscriptions and add `count` new ones, as a collect replaces a scope."""
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM aws_sns_topic_subscription WHERE subscription_arn LIKE 'arn:sub:%'")
    con.execute(
        "INSERT INTO aws_sns_topic_subscription SELECT '111111111111', 'us-east-1', now(), "
        "'arn:sub:' || i, 'arn:aws:sns:us-east-1:111111111111:t', md5(i::VARCHAR), 'email', "
        "md5(i::VARCHAR) || '@example.com', false, json_object('x', md5(i::VARCHAR)) "
        "FROM range(?) r(i)", [count])
    con.close()


def block_counts(db: Path) -> dict:
    return rows(db, "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size()")[0]


def test_a_file_whose_free_blocks_were_truncated_is_not_damaged(tmp_path):
    """At a checkpoint DuckDB cuts free blocks off the end of the file, but the header
    still counts them: the file is shorter than all its blocks, and nothing is lost."""
    db = build_sample_inventory(tmp_path / "used.duckdb")
    shrunk = False
    for count in (60000, 1000, 30000, 10, 60000, 10):
        replace_subscriptions(db, count)
        con = open_database(db, read_only=True)
        [(stored,)] = con.execute(
            "SELECT count(*) FROM aws_sns_topic_subscription WHERE subscription_arn LIKE 'arn:sub:%'"
        ).fetchall()
        con.close()
        assert stored == count
        blocks = block_counts(db)
        shrunk = shrunk or db.stat().st_size < blocks["block_size"] * blocks["total_blocks"]
    assert shrunk  # the case this test is about did happen


def test_a_used_file_cut_by_one_block_is_damaged(cli, tmp_path):
    """Free blocks in the middle of the file do not hide a missing block at its end."""
    db = build_sample_inventory(tmp_path / "used.duckdb")
    for count in (60000, 1000, 30000):
        replace_subscriptions(db, count)
    blocks = block_counts(db)
    assert blocks["free_blocks"] > 1  # more than the one block cut
    db.write_bytes(db.read_bytes()[: -blocks["block_size"]])
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"database {db} is damaged (", "it was cut short")


CHURN_REGION, CHAIN_REGION = "us-east-1", "eu-west-1"
ROUNDS = 50
CLI_ROUNDS = {2, ROUNDS // 2, ROUNDS - 1}  # real `cfgmon` processes; the others use the library
FILLER = 2  # metric filters and topics deleted and added back in turn


class ReusedClients(ClientFactory):
    """One boto3 client per service and region for all the rounds: making new ones
    each round would double the time collecting takes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._made: dict[tuple[str, str], object] = {}

    def _new_client(self, session, service, region):
        if (service, region) not in self._made:
            self._made[service, region] = super()._new_client(session, service, region)
        return self._made[service, region]


@pytest.mark.slow
def test_fifty_rounds_of_collect_and_check_on_one_file(aws, cli, tmp_path):
    """Rows replaced, deleted and added back, regions narrowed and widened: every command
    keeps working on the same file, and every verdict follows what AWS holds."""
    seeder = Seeder(aws)
    chain = seeder.chain(CHAIN_REGION)
    seeder.log_group(CHURN_REGION, "churn")
    logs, sns = seeder.client("logs", CHURN_REGION), seeder.client("sns", CHURN_REGION)
    clients = ReusedClients(endpoint_url=aws.endpoint)
    db = tmp_path / "cfgmon.duckdb"
    for round_ in range(ROUNDS):
        # Even rounds collect both regions, odd rounds only the one whose filler came
        # or went; the chain's alarm goes and comes back every other even round.
        widened = round_ % 2 == 0
        for n in range(FILLER):
            if widened:
                seeder.metric_filter(CHURN_REGION, "churn", f"f{n}", pattern=f'"churn {round_} {n}"')
                seeder.topic(CHURN_REGION, f"churn-{n}")
            else:
                logs.delete_metric_filter(logGroupName="churn", filterName=f"f{n}")
                sns.delete_topic(TopicArn=f"arn:aws:sns:{CHURN_REGION}:{seeder.account_id}:churn-{n}")
        if round_ % 4 == 2:
            seeder.client("cloudwatch", CHAIN_REGION).delete_alarms(AlarmNames=[chain.alarm_name])
        elif round_ % 4 == 0 and round_:
            seeder.alarm(CHAIN_REGION, chain.alarm_name, metric_name=chain.metric_name,
                         alarm_actions=[chain.topic_arn])
        regions = (CHURN_REGION, CHAIN_REGION) if widened else (CHURN_REGION,)
        expected = "COMPLIANT" if round_ // 2 % 2 == 0 else "NON_COMPLIANT"

        if round_ in CLI_ROUNDS:
            collected = run_cli_process("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                                       *[arg for region in regions for arg in ("--region", region)])
            assert collected.exit_code == 0, (round_, collected.stderr)
            checked = run_cli_process("check", "--db", str(db), "--control", CONFIG_CONTROL, "--format", "json")
            assert checked.exit_code == (0 if expected == "COMPLIANT" else 1), (round_, checked.stderr)
            statuses = [r["status"] for r in json.loads(checked.stdout)]
        else:
            assert not collect_into(aws.endpoint, db, regions, clients).partial, round_
            con = open_database(db)
            try:
                statuses = [r.status for r in run_controls(con, [resolve(CONFIG_CONTROL)])]
            finally:
                con.close()
        assert statuses == [expected], round_
        assert rows(db, "SELECT count(*) AS n FROM aws_sns_topic WHERE region = ?",
                    [CHURN_REGION]) == [{"n": FILLER if widened else 0}], round_

    assert rows(db, "SELECT count(DISTINCT run_id) AS n FROM cfgmon_check_result") == [{"n": ROUNDS}]
    commands = COMMANDS | {"collect": ("collect", "--region", CHURN_REGION, "--endpoint-url", aws.endpoint)}
    for name, args in commands.items():
        result = cli(args[0], "--db", str(db), *[a.format(tmp=tmp_path) for a in args[1:]])
        assert result.exit_code in (0, 1), (name, result.stderr)


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


def test_an_older_database_open_in_a_reader_is_not_migrated(cli, tmp_path):
    db = write_version_1_database(tmp_path / "v1.duckdb")
    with held_by_another_process(db, "read-only") as holder:
        for args in (("sql", "SELECT 1"), ("check", "--no-record")):
            assert_one_line(cli(args[0], "--db", str(db), *args[1:]),
                            f"database {db} needs migrating from schema version 1 to "
                            f"{database.SCHEMA_VERSION}, which needs the file to itself, but it is "
                            f"open in another process (PID {holder.pid}, read-only): ")
    assert rows(db, "SELECT max(version) AS v FROM cfgmon_schema") == [{"v": 1}]


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    db = write_version_1_database(tmp_path / "v1.duckdb")
    broken = database.Migration(2, "a step that fails half-way", (
        "ALTER TABLE aws_cloudtrail_trail ADD COLUMN detail_error VARCHAR",
        "ALTER TABLE no_such_table ADD COLUMN x VARCHAR",
    ))
    monkeypatch.setattr(database, "MIGRATIONS", (broken,))
    with pytest.raises(DatabaseError, match=f"cannot migrate {db} from schema version 1 to "
                                             f"{database.SCHEMA_VERSION}: "):
        open_database(db)
    assert "detail_error" not in columns(db, "aws_cloudtrail_trail")
    assert rows(db, "SELECT max(version) AS v FROM cfgmon_schema") == [{"v": 1}]


def test_migrations_are_one_ordered_list_ending_at_the_schema_version():
    versions = [m.version for m in database.MIGRATIONS]
    assert versions == sorted(set(versions))
    assert versions[-1] == database.SCHEMA_VERSION
    # a step changes tables, or only brings new ones (it needs no statement: schema.sql
    # creates them) and says so
    assert all(m.summary and (m.statements or m.summary.startswith("new tables"))
               for m in database.MIGRATIONS)


def test_a_database_from_a_newer_cfgmon_is_refused(cli, tmp_path):
    db = tmp_path / "future.duckdb"
    open_database(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO cfgmon_schema VALUES (99, now())")
    con.close()
    for result in run_each(cli, db, tmp_path).values():
        assert_one_line(result, f"{db} was written by a newer cfgmon (schema version 99; "
                                f"this one knows up to {database.SCHEMA_VERSION}): upgrade cfgmon")

