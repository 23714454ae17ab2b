"""A control is data: a folder with metadata and events runs on the shared chain, with
no SQL and no code of its own; and a chain that names a control is refused."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from clirun import run_cli

from cfgmon.controls.catalogue import load_catalogue, queries_dir, resolve, validate_sql
from cfgmon.controls.chains import validate_chain
from cfgmon.controls.report import run_check
from cfgmon.errors import ControlError
from cfgmon.store import open_database

CHAIN_REF = "alarm_chain@1"
V4_PATTERN = ('{ ($.eventName = AuthorizeSecurityGroupIngress) || '
              '($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }')


def _record(name: str, region: str, source: str = "ec2.amazonaws.com", **extra) -> dict:
    return {
        "eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                                                  "arn": "arn:aws:iam::111122223333:user/alice"},
        "eventTime": "2026-11-03T00:00:00Z", "eventSource": source, "eventName": name,
        "awsRegion": region, "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2",
        "requestParameters": {}, "responseElements": None, "requestID": "r", "eventID": "e",
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": "111122223333", "eventCategory": "Management", **extra,
    }


BACKGROUND = [{"label": "DescribeInstances by a service", "record": _record("DescribeInstances", "us-east-1", readOnly=True)}]


def _write_control(root, folder: str, *, noun: str, names: list[str], records: list[dict]):
    """A control folder in a temporary catalogue: metadata, one catalogue, no SQL."""
    path = root / folder
    path.mkdir(parents=True)
    (path / "catalogue-v1.json").write_text(
        json.dumps({"matches": records, "background": BACKGROUND}), encoding="utf-8")
    (path / "control.toml").write_text(textwrap.dedent(f'''
        id = "{folder}"
        title = "A control made of data"
        severity = "low"
        event_names = {json.dumps(names)}
        reference_pattern = '{V4_PATTERN}'
        event_noun = "{noun}"
        remediation = ["create the filter"]
        description = "d"
        rationale = "r"

        [[frameworks]]
        id = "cis-aws@4.0.0"
        framework = "CIS AWS Foundations Benchmark"
        version = "v4.0.0"
        requirement = "4.10"
        title = "t"

        [[frameworks]]
        id = "cis-aws@5.0.0"
        framework = "CIS AWS Foundations Benchmark"
        version = "v5.0.0"
        requirement = "4.10"
        title = "t"

        [[versions]]
        version = "1"
        chain = "{CHAIN_REF}"
        catalogue = "catalogue-v1.json"
    '''), encoding="utf-8")


@pytest.fixture
def security_groups(tmp_path):
    """A security-group control whose v5.0.0 events add ModifySecurityGroupRules."""
    root = tmp_path / "queries"
    records = [{"label": f"{n} in {r}", "record": _record(n, r)}
               for n in ("AuthorizeSecurityGroupIngress", "CreateSecurityGroup", "DeleteSecurityGroup")
               for r in ("us-east-1", "eu-west-1")]
    records.append({"label": "ModifySecurityGroupRules", "since": "5.0.0",
                    "record": _record("ModifySecurityGroupRules", "eu-west-1")})
    _write_control(root, "sg_changes_monitoring", noun="security group change events",
                   names=["AuthorizeSecurityGroupIngress", "CreateSecurityGroup",
                          "DeleteSecurityGroup", "ModifySecurityGroupRules"], records=records)
    return load_catalogue(root)["sg_changes_monitoring"].latest


def _collect(aws, db, *regions):
    args = ["collect", "--db", str(db), "--endpoint-url", aws.endpoint]
    for region in regions:
        args += ["--region", region]
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr


def _collected(aws, tmp_path):
    """The moto account collected (us-east-1) into a new database file."""
    db = tmp_path / "inv.duckdb"
    _collect(aws, db, "us-east-1")
    return db


def _judge(db, version, framework=None):
    con = open_database(db)
    try:
        [result] = run_check(con, [version], framework=framework).results
    finally:
        con.close()
    return result


def test_a_control_added_as_a_folder_is_judged_on_the_shared_chain(aws, seeder, tmp_path,
                                                                   security_groups):
    chain = seeder.chain("us-east-1", pattern=V4_PATTERN)
    db = _collected(aws, tmp_path)

    as_v4 = _judge(db, security_groups, "cis-aws@4.0.0")
    assert as_v4.status == "COMPLIANT", as_v4.reason
    assert as_v4.control_id == "sg_changes_monitoring" and as_v4.framework == "cis-aws@4.0.0"
    assert "covers all 6 catalogue events" in as_v4.reason

    # The same filter, judged by v5.0.0's events: one event short, and the reason says so
    # in the control's own words.
    as_v5 = _judge(db, security_groups, "cis-aws@5.0.0")
    assert as_v5.status == "NON_COMPLIANT"
    assert as_v5.reason == (
        f"log group {chain.log_group_arn.removesuffix(':*')} has no metric filter covering all 4 security group "
        f"change events; closest, filter {chain.filter_name}, misses ModifySecurityGroupRules"
    )
    # by default, the newest CIS version it maps
    assert _judge(db, security_groups).status == "NON_COMPLIANT"

    # The packaged control, in the same database, is not confused with it.
    [packaged] = [r for r in _judge_all(db) if r.control_id != "sg_changes_monitoring"]
    assert "no metric filter covering all 4 AWS Config change events" in packaged.reason


def _judge_all(db):
    con = open_database(db)
    try:
        return run_check(con, [resolve("config_configuration_changes_monitoring")]).results
    finally:
        con.close()


@pytest.mark.parametrize("pattern", ["", "{ $.eventVersion = * }"])
def test_a_filter_that_matches_ordinary_traffic_does_not_monitor(aws, seeder, tmp_path,
                                                                  security_groups, pattern):
    # It covers every event, but it also counts every ordinary call: the alarm stays in
    # ALARM and a real change notifies no one.
    chain = seeder.chain("us-east-1", pattern=pattern)
    db = _collected(aws, tmp_path)
    result = _judge(db, security_groups, "cis-aws@4.0.0")
    assert result.status == "NON_COMPLIANT"
    assert result.reason == (
        f"metric filter {chain.filter_name} on log group {chain.log_group_arn.removesuffix(':*')} "
        "covers all 3 security group change events, but also matches ordinary traffic "
        "(DescribeInstances by a service), so its alarm stays in ALARM and an event notifies no one"
    )
    assert result.evidence["pattern_matches_ordinary_traffic"] == "DescribeInstances by a service"


def test_trail_capture_follows_the_controls_event_sources(aws, seeder, tmp_path):
    # A trail that excludes KMS management events records AWS Config changes, but not
    # the scheduled deletion of a key.
    root = tmp_path / "queries"
    kms = [{"label": f"{n} {r}", "record": _record(n, r, "kms.amazonaws.com")}
           for n in ("DisableKey", "ScheduleKeyDeletion") for r in ("us-east-1", "eu-west-1")]
    _write_control(root, "kms_test_monitoring", noun="key deletion events",
                   names=["DisableKey", "ScheduleKeyDeletion"], records=kms)
    version = load_catalogue(root)["kms_test_monitoring"].latest
    pattern = '{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }'
    chain = seeder.chain("us-east-1", pattern=pattern, event_selectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "ExcludeManagementEventSources": ["kms.amazonaws.com"]}])
    db = _collected(aws, tmp_path)
    result = _judge(db, version, "cis-aws@5.0.0")
    assert result.status == "NON_COMPLIANT"
    assert result.reason == (
        f"trail {chain.trail_arn} does not record all key deletion events: it misses "
        "DisableKey, ScheduleKeyDeletion (it excludes management events of kms.amazonaws.com)"
    )


def test_a_chain_that_names_a_control_or_an_event_source_is_refused():
    version = resolve("config_configuration_changes_monitoring")
    named = version.sql.replace("FROM cfgmon_chain_control",
                                "FROM cfgmon_chain_control WHERE control_id = 'config_configuration_changes_monitoring'", 1)
    with pytest.raises(ControlError, match="names no control"):
        validate_chain(named, "chain x", forbidden={"config_configuration_changes_monitoring"})
    sourced = version.sql.replace("WHERE service = 'cloudtrail'",
                                  "WHERE service = 'cloudtrail' AND 'config.amazonaws.com' <> ''", 1)
    with pytest.raises(ControlError, match="event source"):
        validate_chain(sourced, "chain x", forbidden=set())


def test_a_chain_that_reads_a_derived_table_without_the_control_is_refused():
    version = resolve("config_configuration_changes_monitoring")
    unkeyed = version.sql.replace(
        "JOIN bound b ON cov.control_id = b.control_id AND cov.control_version = b.control_version\n"
        "     AND cov.event_set = b.event_set",
        "JOIN bound b ON cov.control_version = b.control_version", 1)
    assert unkeyed != version.sql
    with pytest.raises(ControlError, match="without filtering on the control"):
        validate_chain(unkeyed, "chain x", forbidden=set())
    unbound = "SELECT account_id, 'COMPLIANT' AS status, 'r' AS reason, NULL AS resource FROM cfgmon_account"
    with pytest.raises(ControlError, match="reads its control from cfgmon_chain_control"):
        validate_chain(unbound, "chain x", forbidden=set())
    validate_sql(version, where="chain alarm_chain@1")  # the released chain itself passes


def test_every_released_chain_passes_the_checks_a_chain_of_ones_own_gets_at_load(tmp_path):
    # at load, a chain matching its sha256 lock is not parsed again: this is where the
    # released ones are checked
    catalogue = load_catalogue()
    forbidden = {c.id for c in catalogue.values()} | {
        n for c in catalogue.values() for n in c.event_names}
    chained = {v.chain: v for c in catalogue.values() for v in c.versions.values() if v.chain}
    assert {"alarm_chain@1", "alarm_chain@2"} <= set(chained)
    for ref, version in chained.items():
        assert version.chain_locked, ref
        validate_chain(version.sql, ref, forbidden=forbidden)
        validate_sql(version, where=ref)


def test_an_edited_chain_is_checked_at_load(tmp_path):
    folder = tmp_path / "queries"
    shutil.copytree(queries_dir(), folder)
    chain = folder / "_chains" / "alarm_chain" / "v2.sql"
    chain.write_text(chain.read_text().replace(
        "WHERE service = 'cloudtrail'", "WHERE service = 'cloudtrail' AND 'kms.amazonaws.com' <> ''", 1))
    with pytest.raises(ControlError, match="event source"):
        load_catalogue(folder)
