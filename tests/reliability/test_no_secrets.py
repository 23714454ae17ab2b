"""No credential reaches the database, the exports or the output; endpoint secrets are masked.

Two real `cfgmon collect` processes run with known credentials (the test keys, then
an assumed role's key, secret and session token), one scope of each answering an
error that echoes the request's credentials as AWS's SignatureDoesNotMatch does.
Then check, sql and both file exports run, and every byte cfgmon wrote is searched,
raw and decoded (DuckDB and Parquet compress strings).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder

from .fault_proxy import Fault

OTHER_ACCOUNT = "222222222222"
HOOK_PASSWORD, HOOK_TOKEN = "s3cret-hook-pass", "hook-token-abc123"
HOOK_URL = f"https://alice:{HOOK_PASSWORD}@hooks.example.com:8443/notify/config?token={HOOK_TOKEN}&x=1"
REGION = "eu-west-1"
ECHO = ("The request signature we calculated does not match the signature you provided. "
        "The Canonical String for this request should have been 'POST\n/\n\n"
        "authorization:AWS4-HMAC-SHA256 Credential={access_key}/20250101/eu-west-1/monitoring/aws4_request\n"
        "x-amz-security-token:{security_token}\n'")


def run_collect(proxy, db: Path, credentials: dict[str, str]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("AWS_SESSION_TOKEN", None)
    env.update({"AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"]})
    if "aws_session_token" in credentials:
        env["AWS_SESSION_TOKEN"] = credentials["aws_session_token"]
    return subprocess.run(
        [sys.executable, "-m", "cfgmon.cli", "collect", "--db", str(db),
         "--endpoint-url", proxy.url, "--region", REGION],
        env=env, capture_output=True, text=True, timeout=120,
    )


def decoded_text(path: Path) -> str:
    """Every value of every table of a DuckDB file, or of a Parquet/CSV file, as text."""
    con = duckdb.connect()
    try:
        if path.suffix == ".duckdb":
            con.execute(f"ATTACH '{path}' AS inventory (READ_ONLY)")
            tables = [t for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'inventory'").fetchall()]
            return "\n".join(str(con.execute(f"SELECT * FROM inventory.{t}").fetchall())
                             for t in tables)
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
        return str(con.execute(f"SELECT * FROM {reader}('{path}')").fetchall())
    finally:
        con.close()


def test_no_credential_reaches_anything_cfgmon_writes(aws, proxy, cli, tmp_path):
    Seeder(aws).chain(REGION, subscriptions=[("https", HOOK_URL)])
    other = Seeder(aws, OTHER_ACCOUNT)
    other.chain(REGION, subscriptions=[("https", HOOK_URL)])
    role = other.credentials  # an assumed role's key, secret and session token
    secrets = {
        "test access key": aws.credentials["aws_access_key_id"],
        "test secret key": aws.credentials["aws_secret_access_key"],
        "role access key": role["aws_access_key_id"],
        "role secret key": role["aws_secret_access_key"],
        "role session token": role["aws_session_token"],
        "endpoint password": HOOK_PASSWORD, "endpoint token": HOOK_TOKEN,
    }
    proxy.add(Fault("access_denied", service="monitoring", region=REGION,
                    code="SignatureDoesNotMatch", message=ECHO))
    db = tmp_path / "cfgmon.duckdb"
    out = tmp_path / "out"

    runs = [run_collect(proxy, db, aws.credentials), run_collect(proxy, db, role)]
    runs += [cli("check", "--db", str(db), "--format", "json"),
             cli("sql", "--db", str(db), "--format", "csv", "SELECT * FROM cfgmon_collection"),
             cli("export", "--db", str(db), "--parquet", str(out / "parquet")),
             cli("export", "--db", str(db), "--csv", str(out / "csv"))]

    assert [r.returncode for r in runs[:2]] == [1, 1], [r.stderr for r in runs[:2]]  # alarms failed
    assert [r.exit_code for r in runs[2:]] == [1, 0, 0, 0], [r.stderr for r in runs[2:]]
    # The echoes were stored and printed, masked.
    stored = duckdb.connect(str(db), read_only=True).execute(
        "SELECT account_id, error_message FROM cfgmon_collection WHERE service = 'cloudwatch' "
        "ORDER BY account_id").fetchall()
    assert [a for a, _ in stored] == [DEFAULT_ACCOUNT, OTHER_ACCOUNT]
    assert all("Credential=****/20250101/" in m for _, m in stored), stored
    assert "x-amz-security-token:****" in stored[1][1]
    assert "SignatureDoesNotMatch" in runs[0].stderr
    endpoints = duckdb.connect(str(db), read_only=True).execute(
        "SELECT DISTINCT endpoint FROM aws_sns_topic_subscription").fetchall()
    assert endpoints == [("https://****@hooks.example.com:8443/notify/config?****",)]

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.suffix for p in written} >= {".duckdb", ".parquet", ".csv"}
    texts = {"stdout and stderr": "".join(r.stdout + r.stderr for r in runs)}
    for path in written:
        texts[f"{path} (bytes)"] = path.read_bytes().decode("latin-1")
        if path.suffix in (".duckdb", ".parquet", ".csv"):
            texts[f"{path} (values)"] = decoded_text(path)
    for what, secret in secrets.items():
        for where, text in texts.items():
            assert secret not in text, (what, where)


def test_redact_masks_given_secrets_key_ids_and_url_secrets():
    from cfgmon.redaction import redact

    text = ('Could not connect to "http://bob:pw@10.0.0.1:8080/x?sig=abc" with AKIAIOSFODNN7EXAMPLE '
            "and ASIAXYZXYZXYZXYZXYZ1, token FwoGZXIvYXdzEBYaDEXAMPLETOKEN; user AROAEXAMPLEID12345678")
    assert redact(text, ["FwoGZXIvYXdzEBYaDEXAMPLETOKEN", None, "short"]) == (
        'Could not connect to "http://****@10.0.0.1:8080/x?****" with AKIA**** and ASIA****, '
        "token ****; user AROAEXAMPLEID12345678"
    )
    assert redact(None) is None and redact("") == ""
