"""`collect --organization --shard K/N` on N machines, one Parquet lake, `check --parquet`."""

from __future__ import annotations

import json

import duckdb
import pytest
from org_scenario import create_organization, organization_trail_chain

from cfgmon.shards import Shard, parse_shard, shard_of
from cfgmon.store.lake import COLLECTED_TABLES, OPTIONAL_TABLES

SHARDS = 3
REGIONS = ("us-east-1",)


def verdict_rows(result) -> set[tuple]:
    assert result.exit_code in (0, 1), result.stderr
    return {
        (row["control_id"], row["account_id"], row["status"], row["reason"], row["resource"])
        for row in json.loads(result.stdout)
    }


def account_folders(lake, table: str) -> list[str]:
    """The table's account folders (a shard that owns no account adds an empty file in
    account=none-K-of-N/, as moto's random account ids may well make happen)."""
    return sorted(p.name for p in (lake / table).iterdir() if not p.name.startswith("account=none-"))


@pytest.fixture
def organization(aws):
    """An organisation whose members are watched through the management account's
    organisation trail, for AWS Config changes only."""
    org = create_organization(aws, members=6)
    organization_trail_chain(org)
    return org


def collect_shard(collector, db, shard: str):
    collector.db = str(db)
    result = collector.collect("--organization", "--shard", shard, regions=REGIONS)
    assert result.exit_code == 0, result.stderr
    return result


def test_shards_exported_into_one_lake_judge_as_one_collection(
    aws, organization, collector, cli, tmp_path
):
    org = organization
    everyone = {org.management, *org.members}
    whole_db = tmp_path / "whole.duckdb"
    collector.db = str(whole_db)
    assert collector.collect("--organization", regions=REGIONS).exit_code == 0
    whole = verdict_rows(cli("check", "--db", collector.db, "--format", "json", "--no-record"))

    lake = tmp_path / "lake"
    for index in range(1, SHARDS + 1):
        db = tmp_path / f"shard-{index}.duckdb"
        collect_shard(collector, db, f"{index}/{SHARDS}")
        own = {a for a in everyone if Shard(index, SHARDS).owns(a)}
        # Each shard collects its own accounts and the management account, and knows
        # the whole organisation and the shard of each account.
        assert {a for (a,) in collector.query("SELECT account_id FROM cfgmon_account")} == (
            own | {org.management})
        assert sorted(collector.query(
            "SELECT account_id, organization_id, shard FROM cfgmon_organization_account")) == sorted(
            (a, org.id, f"{shard_of(a, SHARDS)}/{SHARDS}") for a in everyone)
        # Each shard's check runs the controls and records its run, as any database does.
        assert cli("check", "--db", str(db), "--exit-zero").exit_code == 0
        result = cli("export", "--db", str(db), "--parquet", str(lake))
        assert result.exit_code == 0, result.stderr

    # Every account's folder, once, from the shard that owns it.
    assert account_folders(lake, "cfgmon_account") == sorted(f"account=acct-{a}" for a in everyone)
    assert account_folders(lake, "cfgmon_check_result") == sorted(
        f"account=acct-{a}" for a in everyone)
    assert account_folders(lake, "cfgmon_pattern_coverage") == [
        f"shard={index}-of-{SHARDS}" for index in range(1, SHARDS + 1)]
    # The lake holds each account's rows once: as many as one whole collection holds.
    single = duckdb.connect(str(whole_db), read_only=True)
    try:
        for table in (*COLLECTED_TABLES, *OPTIONAL_TABLES):
            counts = duckdb.sql(
                f"SELECT account_id, count(*) FROM read_parquet('{lake}/{table}/**/*.parquet') "
                "GROUP BY ALL").fetchall()
            expected = single.execute(
                f"SELECT account_id, count(*) FROM {table} GROUP BY ALL").fetchall()
            assert sorted(counts) == sorted(expected), table
    finally:
        single.close()
    [(listed,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/cfgmon_organization_account/**/*.parquet')"
    ).fetchall()
    assert listed == len(everyone)  # the member list once, though every shard knows it

    lake_verdicts = verdict_rows(cli("check", "--parquet", str(lake), "--format", "json"))
    assert lake_verdicts == whole
    # Members judged through the management account's chain, in whichever shard it was.
    assert {status for control, account, status, *_ in whole
            if control == "config_configuration_changes_monitoring"} == {"COMPLIANT"}
    assert {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"} <= {row[2] for row in whole}

    # A shard exported again replaces its own folders only.
    second = tmp_path / "shard-2.duckdb"
    before = {p.name: p.stat().st_mtime_ns for p in (lake / "aws_sns_topic").iterdir()}
    assert cli("export", "--db", str(second), "--parquet", str(lake)).exit_code == 0
    after = {p.name: p.stat().st_mtime_ns for p in (lake / "aws_sns_topic").iterdir()}
    assert set(after) == set(before)
    for name, mtime in after.items():
        if name.startswith("account=acct-"):
            owned = shard_of(name.removeprefix("account=acct-"), SHARDS) == 2
            assert (mtime != before[name]) == owned, name
    assert verdict_rows(cli("check", "--parquet", str(lake), "--format", "json")) == whole


def test_shards_are_disjoint_cover_every_account_and_stay_put_when_accounts_join():
    accounts = [f"{n:012d}" for n in range(100000000000, 100000000300)]
    slices = {k: {a for a in accounts if Shard(k, 4).owns(a)} for k in range(1, 5)}
    assert set().union(*slices.values()) == set(accounts)
    assert sum(len(s) for s in slices.values()) == len(accounts)
    assert all(len(s) > 40 for s in slices.values())  # spread, not piled on one shard
    more = accounts + [f"{n:012d}" for n in range(900000000000, 900000000050)]
    assert {a: shard_of(a, 4) for a in accounts} == {a: shard_of(a, 4) for a in more[:300]}


@pytest.mark.parametrize("shard, message", [
    ("0/3", "--shard '0/3': K must be 1..N (e.g. --shard 2/3)"),
    ("4/3", "--shard '4/3': K must be 1..N (e.g. --shard 2/3)"),
    ("2/0", "--shard '2/0': K must be 1..N (e.g. --shard 2/3)"),
    ("two", "--shard 'two' is not K/N (e.g. --shard 2/3)"),
])
def test_a_shard_that_is_not_k_of_n_is_a_usage_error(aws, collector, shard, message):
    result = collector.collect("--organization", "--shard", shard)
    assert (result.exit_code, result.stderr) == (2, f"cfgmon: error: {message}\n")
    with pytest.raises(Exception, match="K must be|is not K/N"):
        parse_shard(shard)


def test_a_shard_needs_the_organisation(aws, collector):
    result = collector.collect("--shard", "1/2")
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: --shard needs --organization\n")


def test_a_database_holds_one_shard(aws, collector, tmp_path):
    create_organization(aws, members=2)
    collect_shard(collector, tmp_path / "one.duckdb", "1/2")
    result = collector.collect("--organization", "--shard", "2/2", regions=REGIONS)
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: the database holds shard 1/2 of organisation ")
    assert result.stderr.endswith(": collect shard 2/2 into a database of its own (--db)\n")


def test_check_over_what_is_not_a_lake_is_a_usage_error(cli, tmp_path):
    missing = tmp_path / "nowhere"
    result = cli("check", "--parquet", str(missing))
    assert (result.exit_code, result.stderr) == (2, (
        f"cfgmon: error: no Parquet lake at {missing} (no such folder): "
        "export one with `cfgmon export --parquet DIR`\n"))
    (tmp_path / "empty").mkdir()
    result = cli("check", "--parquet", str(tmp_path / "empty"))
    assert (result.exit_code, result.stderr) == (2, (
        f"cfgmon: error: {tmp_path / 'empty'} is not a cfgmon Parquet lake (it has no "
        "cfgmon_account/ folder of Parquet files): export one with `cfgmon export --parquet DIR`\n"))


def test_a_lake_exported_before_the_listed_regions_were_kept_still_checks(cli, tmp_path):
    from sample_inventory import build_sample_inventory

    db = build_sample_inventory(tmp_path / "inventory.duckdb")
    lake = tmp_path / "lake"
    assert cli("export", "--db", str(db), "--parquet", str(lake)).exit_code == 0
    before = verdict_rows(cli("check", "--parquet", str(lake), "--format", "json"))
    [optional] = OPTIONAL_TABLES
    for path in sorted((lake / optional).glob("**/*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (lake / optional).rmdir()
    assert verdict_rows(cli("check", "--parquet", str(lake), "--format", "json")) == before


def test_check_over_a_lake_missing_a_table_is_a_usage_error(cli, tmp_path):
    from sample_inventory import build_sample_inventory

    db = build_sample_inventory(tmp_path / "inventory.duckdb")
    lake = tmp_path / "lake"
    assert cli("export", "--db", str(db), "--parquet", str(lake)).exit_code == 0
    assert verdict_rows(cli("check", "--parquet", str(lake), "--format", "json"))
    gone = COLLECTED_TABLES[-1]
    for path in sorted((lake / gone).glob("**/*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    result = cli("check", "--parquet", str(lake))
    assert (result.exit_code, result.stderr) == (2, (
        f"cfgmon: error: the Parquet lake {lake} has no table {gone} (no Parquet files under "
        f"{lake / gone}/); export into it again with this version of cfgmon\n"))
    result = cli("check", "--parquet", str(lake), "--db", str(db))
    assert (result.exit_code, result.stderr) == (2, "cfgmon: error: give --db or --parquet, not both\n")
