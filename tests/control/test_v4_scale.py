"""cfgmon_group_coverage stays within accounts x the log groups they can reach."""

import duckdb
from clirun import run_cli

from cfgmon.simulation import Seeder

from .test_v4_regions import V4, narrowed

ACCOUNTS = ("111111111111", "222222222222", "333333333333")


def collect_each(aws, tmp_path, monkeypatch, *regions: str) -> str:
    """Each of ACCOUNTS collected with its own credentials into one database."""
    db = str(tmp_path / "cfgmon.duckdb")
    for account in ACCOUNTS:
        creds = aws.account_credentials(account)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", creds["aws_session_token"])
        result = run_cli("collect", "--db", db, "--endpoint-url", aws.endpoint,
                         *(arg for region in regions for arg in ("--region", region)))
        assert result.exit_code == 0, result.stderr
    return db


def test_a_log_group_s_groups_are_judged_only_for_accounts_whose_chains_reach_it(
        aws, tmp_path, monkeypatch):
    # Each account: its own trail, log group and two filters on one metric, the same
    # standard region-narrowed patterns in every account (no organisation).
    for account in ACCOUNTS:
        seeder = Seeder(aws, account)
        chain = seeder.chain("us-east-1", pattern=narrowed("us-east-1", "eu-west-1"))
        seeder.metric_filter("us-east-1", chain.log_group_name, "zz-second",
                             pattern=narrowed("us-east-1"), metric_name=chain.metric_name)
    db = collect_each(aws, tmp_path, monkeypatch, "us-east-1", "eu-west-1")
    result = run_cli("check", "--db", db, "--format", "json", "--control", V4)
    assert result.exit_code in (0, 1), result.stderr
    con = duckdb.connect(db, read_only=True)
    rows = con.execute(
        "SELECT log_group_account_id, judged_account_id, COUNT(*) FROM cfgmon_group_coverage "
        "GROUP BY ALL ORDER BY ALL").fetchall()
    foreign = [r for r in rows if r[1] not in ("", r[0])]
    # account B's chain can never reach account A's log group (no organisation), yet
    # every group is rendered for every account holding one of its patterns: rows and
    # Python evaluation grow as accounts x accounts x controls x filters
    assert not foreign, rows


def test_an_application_log_s_term_pattern_is_judged_once_not_per_account_and_region(
        aws, tmp_path, monkeypatch):
    # `ERROR` reads no account id and no region name: whatever the rendering, it
    # matches the same records, so no account's rendering is built for it
    from cfgmon.controls import rendering

    for account in ACCOUNTS:
        seeder = Seeder(aws, account)
        seeder.chain("us-east-1")
        seeder.log_group("us-east-1", "app-logs")
        seeder.metric_filter("us-east-1", "app-logs", "errors", pattern="?ERROR ?Exception",
                             metric_name="AppErrors", namespace="App")
    db = collect_each(aws, tmp_path, monkeypatch, "us-east-1")
    built: list[rendering.Rendering] = []
    texts = rendering.Rendering.texts

    def counting(self, events):
        built.append(self)
        return texts(self, events)

    monkeypatch.setattr(rendering.Rendering, "texts", counting)
    result = run_cli("check", "--db", db, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    assert built == []
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM cfgmon_judged_coverage "
                       "WHERE filter_pattern = '?ERROR ?Exception'").fetchone()[0] == 0
    con.close()
