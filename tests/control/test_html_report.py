"""`--format html`: one self-contained file with the header, the matrix data, every result's
detail (chain, evidence, remediation) and compliance over time; user data cannot escape."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
from pathlib import Path

from cfgmon.controls.links import LINKS
from cfgmon.output import RenderContext, html_format

from .conftest import AUDITED_ACCOUNTS, CONTROL, LATEST

DATA = re.compile(r'<script type="application/json" id="cfgmon-data">(.*?)</script>', re.S)


def page_data(text: str) -> dict:
    """The page's embedded data, as its script reads it."""
    (blob,) = DATA.findall(text)
    return json.loads(blob)


def details(data: dict) -> dict[tuple[str, str], dict]:
    """Every result's detail by (account, control ref), decompressed as the page does."""
    found = {}
    for chunk in data["chunks"]:
        for a, c, detail in json.loads(gzip.decompress(base64.b64decode(chunk))):
            found[(data["accounts"][a], data["controls"][c]["ref"])] = detail
    return found


def test_check_writes_a_self_contained_report(db, cli, tmp_path):
    report = tmp_path / "report.html"
    result = cli("check", "--db", db, "--control", CONTROL, "--format", "html", "--output", str(report))
    assert result.exit_code == 1, result.stderr
    text = report.read_text(encoding="utf-8")
    # nothing to fetch: no external script, style, image or font, and a policy forbidding it
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    assert "url(" not in text and "@import" not in text
    assert "default-src 'none'" in text
    # the header: when, what was collected, the framework, the summary
    assert "Collected: 3 of 3 account(s) in 2 region(s) (eu-west-1, us-east-1)" in text
    assert "Framework judged: cis-aws@7.0.0" in text
    assert "1 COMPLIANT</span>" in text and "2 NON_COMPLIANT</span>" in text
    data = page_data(text)
    assert data["accounts"] == sorted(AUDITED_ACCOUNTS)
    statuses = [data["statuses"][int(row)] for row in data["cells"]]
    assert dict(zip(data["accounts"], statuses, strict=True)) == AUDITED_ACCOUNTS


def test_each_detail_has_its_chain_evidence_and_fix(db, cli, tmp_path):
    report = tmp_path / "report.html"
    cli("check", "--db", db, "--control", CONTROL, "--format", "html", "--output", str(report))
    found = details(page_data(report.read_text(encoding="utf-8")))
    ref = f"{CONTROL}@{LATEST}"
    compliant, threshold, unsubscribed = (found[(a, ref)] for a in sorted(AUDITED_ACCOUNTS))
    assert compliant["links"] == "oooooo" and "fix" not in compliant
    # 222222222222's alarm needs three events: the alarm is the broken link
    assert threshold["links"] == "ooobnn"
    assert threshold["evidence"][3]["alarm_arn"].endswith(":alarm:cis-config-changes")
    assert "Threshold 3 -> 1" in threshold["fix"]["cli"]
    assert "aws_cloudwatch_metric_alarm" in threshold["fix"]["terraform"]
    # 333333333333's topic has no confirmed subscription: the last link is broken
    assert unsubscribed["links"] == "ooooob"
    assert "aws sns subscribe" in unsubscribed["fix"]["cli"]
    evidence_fields = [field for group in unsubscribed["evidence"] for field in group]
    assert "broken_link" in unsubscribed["evidence"][len(LINKS)]
    assert "topic_arn" in unsubscribed["evidence"][4] and "confirmed_subscriptions" in evidence_fields


def test_results_renders_a_stored_run_with_compliance_over_time(db, cli, tmp_path):
    for _ in range(2):
        assert cli("check", "--db", db, "--control", CONTROL).exit_code == 1
    runs = cli("results", "--db", db, "--list", "--format", "json")
    first = json.loads(runs.stdout)[-1]["run_id"]
    report = tmp_path / "stored.html"
    result = cli("results", first[:8], "--db", db, "--format", "html", "--output", str(report))
    assert result.exit_code == 1, result.stderr
    text = report.read_text(encoding="utf-8")
    assert f"Run <code>{first}</code>" in text
    assert "Compliance over time" in text and text.count("% compliant</title>") == 2
    assert "33.3% compliant" in text        # 1 of 3 accounts, in both runs


def test_one_run_draws_no_chart(db, cli, tmp_path):
    report = tmp_path / "report.html"
    cli("check", "--db", db, "--control", CONTROL, "--format", "html", "--output", str(report))
    assert "Compliance over time" not in report.read_text(encoding="utf-8")


HOSTILE = '</script><script>window.pwned = 1</script><b onmouseover="x">&amp;'


def hostile_rows() -> list[dict]:
    """A result whose every text is markup: a name can hold anything."""
    return [{
        "control_id": CONTROL, "control_version": "2", "control": f"{CONTROL}@2",
        "account_id": HOSTILE, "status": "NON_COMPLIANT", "reason": HOSTILE, "resource": HOSTILE,
        "evaluated_at": dt.datetime(2026, 1, 1), "framework": None, "run_id": HOSTILE,
        "evidence": {"broken_link": 7, "metric_filter_name": HOSTILE, "filter_pattern": HOSTILE},
        "remediation": {"cli": HOSTILE, "terraform": HOSTILE, "notes": [HOSTILE]},
    }]


def write_hostile_report(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        html_format.render(hostile_rows(), RenderContext(run_id=HOSTILE), out)
    return path


def test_user_data_cannot_end_the_script_or_add_markup(tmp_path):
    text = write_hostile_report(tmp_path / "hostile.html").read_text(encoding="utf-8")
    assert "<script>window.pwned" not in text
    assert '<b onmouseover="x">' not in text
    data = page_data(text)      # the one data script ends where it should, and reads back whole
    assert data["accounts"] == [HOSTILE]
    assert details(data)[(HOSTILE, f"{CONTROL}@2")]["reason"] == HOSTILE
