"""`cfgmon demo`: no AWS account, every kind of verdict, a database left where it says."""

from __future__ import annotations

import duckdb


def test_demo_shows_each_verdict_and_leaves_its_database(cli, tmp_path, monkeypatch):
    # No credentials and no endpoint from the environment: the demo needs neither.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "demo.duckdb"
    result = cli("demo", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert f"The demo database is {db}" in result.stdout
    assert "cfgmon check --db" in result.stdout  # the next commands worth trying

    con = duckdb.connect(str(db), read_only=True)
    verdicts = dict(con.execute(
        "SELECT account_id, status FROM cfgmon_check_result ORDER BY account_id"
    ).fetchall())
    reasons = dict(con.execute("SELECT account_id, reason FROM cfgmon_check_result").fetchall())
    con.close()
    assert verdicts["111111111111"] == "COMPLIANT"
    # && in place of || : every event name is in the text, yet no event matches.
    assert verdicts["222222222222"] == "NON_COMPLIANT"
    assert "has no metric filter covering all 4 AWS Config change events" in reasons["222222222222"]
    assert "has no confirmed subscription" in reasons["333333333333"]
    assert "is not multi-region" in reasons["444444444444"]
    assert set(verdicts.values()) >= {"COMPLIANT", "NON_COMPLIANT"}
