"""`cfgmon collect` on the command line."""

from __future__ import annotations

import re

import duckdb

from cfgmon.simulation import Seeder


def table(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_collect_with_endpoint_url_and_regions(aws, cli, tmp_path):
    Seeder(aws).chain("eu-west-1")
    db = tmp_path / "x.duckdb"
    result = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                 "--region", "eu-west-1", "--concurrency", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("collected 4 scopes (1 region, account 123456789012)")
    assert "4 ok, 0 failed, 0 skipped" in result.stderr
    assert table(db, "SELECT region, count(*) FROM cfgmon_collection WHERE status = 'ok' GROUP BY region") == [
        ("eu-west-1", 4)
    ]
    assert table(db, "SELECT name FROM aws_cloudtrail_trail") == [("cis-trail",)]


def test_default_regions_are_the_enabled_ones(aws, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)  # boto3's own override
    monkeypatch.setenv("CFGMON_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.chdir(tmp_path)
    enabled = sorted(
        r["RegionName"] for r in aws.client("ec2").describe_regions(AllRegions=True)["Regions"]
        if r["OptInStatus"] in ("opt-in-not-required", "opted-in")
    )
    result = cli("collect")
    assert result.exit_code == 0, result.stderr
    regions = [r for (r,) in table(tmp_path / "env.duckdb",
                                   "SELECT DISTINCT region FROM cfgmon_collection ORDER BY 1")]
    assert regions == enabled
    assert "ap-east-1" not in regions  # not opted in, in moto's region list
    assert not (tmp_path / "cfgmon.duckdb").exists()


def test_unknown_region_is_a_one_line_usage_error(aws, cli, tmp_path):
    result = cli("collect", "--db", str(tmp_path / "x.duckdb"), "--endpoint-url", aws.endpoint,
                 "--region", "eu-west-1", "--region", "mars-north-1")
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: unknown region 'mars-north-1'; known regions:")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_missing_credentials_and_profile_are_usage_errors(aws, cli, tmp_path, monkeypatch):
    db = str(tmp_path / "x.duckdb")
    result = cli("collect", "--db", db, "--profile", "nope", "--endpoint-url", aws.endpoint)
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: AWS profile 'nope' is not configured\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = cli("collect", "--db", db, "--endpoint-url", aws.endpoint)
    assert result.exit_code == 2
    assert result.stderr.startswith("cfgmon: error: no AWS credentials found")
    assert not (tmp_path / "x.duckdb").exists()  # a collection that cannot start leaves no file


def test_concurrency_must_be_positive(cli, tmp_path):
    result = cli("collect", "--db", str(tmp_path / "x.duckdb"), "--concurrency", "0")
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: --concurrency must be at least 1\n"
    )


def test_processes_must_be_positive(cli, tmp_path):
    result = cli("collect", "--db", str(tmp_path / "x.duckdb"), "--processes", "0")
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: --processes must be at least 1\n"
    )
    assert not (tmp_path / "x.duckdb").exists()


def test_help_shows_an_example(cli):
    result = cli("collect", "--help")
    assert result.exit_code == 0
    assert "--endpoint-url" in result.stdout and "Example: cfgmon collect" in result.stdout


def test_summary_names_skipped_regions_once(aws, cli, tmp_path):
    result = cli("collect", "--db", str(tmp_path / "x.duckdb"), "--endpoint-url", aws.endpoint,
                 "--region", "ap-east-1")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "0 ok, 0 failed, 4 skipped" in lines[0]
    assert lines[1:] == [
        "  skipped: ap-east-1 cloudtrail, logs, cloudwatch, sns: RegionNotEnabled: "
        "region ap-east-1 is not enabled in account 123456789012 (not-opted-in)"
    ]


def collected_regions(db) -> list[str]:
    return [r for (r,) in table(db, "SELECT DISTINCT region FROM cfgmon_collection ORDER BY 1")]


def test_regions_are_names_in_any_case_and_comma_separated_lists(aws, cli, tmp_path):
    db = tmp_path / "x.duckdb"
    result = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                 "--region", "EU-West-1")
    assert result.exit_code == 0, result.stderr
    assert collected_regions(db) == ["eu-west-1"]
    result = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                 "--region", "us-east-1, eu-west-2", "--region", "EU-WEST-1,us-east-1")
    assert result.exit_code == 0, result.stderr
    assert "(3 regions," in result.stderr
    assert collected_regions(db) == ["eu-west-1", "eu-west-2", "us-east-1"]


def test_an_unknown_region_suggests_the_closest_name(aws, cli, tmp_path):
    db = tmp_path / "x.duckdb"
    result = cli("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                 "--region", "eu-west-1,eu-west-3x")
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: unknown region 'eu-west-3x'; did you mean eu-west-3?\n"
    )
    assert not db.exists()  # nothing was collected, so no database is left behind


def test_an_empty_region_in_a_list_is_bad_input(cli, tmp_path):
    result = cli("collect", "--db", str(tmp_path / "x.duckdb"), "--region", "eu-west-1,")
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: --region 'eu-west-1,' names an empty region; "
           "separate names with commas, as in --region eu-west-1,us-east-1\n"
    )


def test_the_summary_counts_in_words_for_one_region_and_for_two(aws, cli, tmp_path):
    db = str(tmp_path / "x.duckdb")
    one = cli("collect", "--db", db, "--endpoint-url", aws.endpoint, "--region", "eu-west-1")
    two = cli("collect", "--db", db, "--endpoint-url", aws.endpoint,
              "--region", "eu-west-1,us-east-1")
    assert one.stderr.startswith(f"collected 4 scopes (1 region, account 123456789012) into {db}: ")
    assert two.stderr.startswith(f"collected 8 scopes (2 regions, account 123456789012) into {db}: ")
    for result in (one, two):
        assert result.exit_code == 0, result.stderr
        assert re.search(r"; \d+ API calls in \d+\.\ds$", result.stderr.splitlines()[0])
