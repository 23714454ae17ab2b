"""`cfgmon collect --account ID... --role-name NAME`, and accounts whose role cannot be assumed."""

from __future__ import annotations

import json

import pytest
from org_scenario import RoleGate, create_organization, organization_trail_chain

from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder

FIRST, SECOND = "210987654321", "345678901234"


def test_named_accounts_are_collected_through_the_role(aws, collector, monkeypatch):
    first, second = Seeder(aws, FIRST), Seeder(aws, SECOND)
    first.chain("us-east-1")
    second.chain("eu-west-1", subscriptions=())
    gate = RoleGate(endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)

    # in one process: the gate records the roles asked for where they are assumed
    result = collector.collect("--account", FIRST, "--account", SECOND, "--role-name", "Audit",
                               "--processes", "1")
    assert result.exit_code == 0, result.stderr
    # roles are assumed on the worker pool, in no fixed order
    assert sorted(gate.asked) == [f"arn:aws:iam::{FIRST}:role/Audit", f"arn:aws:iam::{SECOND}:role/Audit"]
    verdicts = collector.verdicts()
    assert set(verdicts) == {FIRST, SECOND}  # the caller's own account was not asked for
    assert verdicts[FIRST]["status"] == "COMPLIANT"
    assert "has no confirmed subscription" in verdicts[SECOND]["reason"]
    assert sorted(collector.query("SELECT account_id, source, status FROM cfgmon_account")) == [
        (FIRST, "assumed-role", "ok"), (SECOND, "assumed-role", "ok"),
    ]


def test_the_callers_own_account_uses_its_own_credentials(aws, collector, monkeypatch):
    Seeder(aws).topic("us-east-1", "mine")
    Seeder(aws, FIRST).topic("us-east-1", "theirs")
    gate = RoleGate(endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)

    result = collector.collect("--account", DEFAULT_ACCOUNT, "--account", FIRST,
                               "--account", FIRST, "--processes", "1", regions=("us-east-1",))
    assert result.exit_code == 0, result.stderr
    assert gate.asked == [f"arn:aws:iam::{FIRST}:role/OrganizationAccountAccessRole"]
    assert sorted(collector.query("SELECT account_id, name FROM aws_sns_topic")) == [
        (DEFAULT_ACCOUNT, "mine"), (FIRST, "theirs"),
    ]
    assert sorted(collector.query("SELECT account_id, source FROM cfgmon_account")) == [
        (DEFAULT_ACCOUNT, "caller"), (FIRST, "assumed-role"),
    ]


def test_a_role_that_cannot_be_assumed_is_recorded_and_the_others_go_on(
    aws, collector, monkeypatch
):
    Seeder(aws, FIRST).chain("us-east-1")
    denied_role = f"arn:aws:iam::{SECOND}:role/OrganizationAccountAccessRole"
    gate = RoleGate(denied={denied_role}, endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)

    result = collector.collect("--account", SECOND, "--account", FIRST)
    assert result.exit_code == 1  # partial: one account could not be collected
    assert result.stderr.splitlines()[1] == (
        f"  error: account {SECOND} not collected: AccessDenied: cannot assume role "
        f"{denied_role}: User: arn:aws:iam::{DEFAULT_ACCOUNT}:user/cfgmon is not authorized "
        f"to perform: sts:AssumeRole on resource: {denied_role}"
    )
    [(status, code, message)] = collector.query(
        "SELECT status, error_code, error_message FROM cfgmon_account WHERE account_id = ?", [SECOND]
    )
    assert (status, code) == ("error", "AccessDenied")
    assert message.startswith(f"cannot assume role {denied_role}: User: ")
    assert collector.query(
        "SELECT count(*) FROM cfgmon_collection WHERE account_id = ?", [SECOND]) == [(0,)]

    verdicts = collector.verdicts()
    assert verdicts[FIRST]["status"] == "COMPLIANT"
    assert verdicts[SECOND]["status"] == "INSUFFICIENT_DATA"
    assert verdicts[SECOND]["reason"] == (
        f"account {SECOND} could not be collected: AccessDenied: {message}"
    )
    assert verdicts[SECOND]["resource"] == f"AWS::::Account:{SECOND}"


def test_an_account_that_cannot_be_assumed_again_keeps_its_earlier_rows_dated(
    aws, collector, monkeypatch
):
    """Collected once in full, then the management account's role is refused: like any
    failed scope, its earlier rows stand in, and its scopes say the latest attempt failed."""
    org = create_organization(aws, members=1, management=FIRST)
    chain = organization_trail_chain(org)
    member = org.members[0]
    assert collector.collect("--account", FIRST, "--account", member).exit_code == 0
    assert collector.verdicts()[member]["status"] == "COMPLIANT"
    [(first_success,)] = collector.query(
        "SELECT DISTINCT last_success_at FROM cfgmon_collection WHERE account_id = ? "
        "AND region = 'us-east-1' AND service = 'logs'", [FIRST])

    gate = RoleGate(denied={f"arn:aws:iam::{FIRST}:role/OrganizationAccountAccessRole"},
                    endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)
    assert collector.collect("--account", FIRST, "--account", member).exit_code == 1

    assert set(collector.query(
        "SELECT status, error_code, error_message FROM cfgmon_collection WHERE account_id = ?",
        [FIRST],
    )) == {("error", "AccessDenied",
            f"account {FIRST} could not be collected: cannot assume role "
            f"arn:aws:iam::{FIRST}:role/OrganizationAccountAccessRole: User: "
            f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/cfgmon is not authorized to perform: "
            f"sts:AssumeRole on resource: arn:aws:iam::{FIRST}:role/OrganizationAccountAccessRole")}
    assert collector.query(
        "SELECT last_success_at FROM cfgmon_collection WHERE account_id = ? "
        "AND region = 'us-east-1' AND service = 'logs'", [FIRST]) == [(first_success,)]
    verdicts = collector.verdicts()
    assert verdicts[FIRST]["status"] == "INSUFFICIENT_DATA"
    assert verdicts[member]["status"] == "COMPLIANT"
    assert verdicts[member]["evidence"]["trail_arn"] == chain.trail_arn


def test_a_link_into_an_account_never_collected_is_insufficient_data(aws, collector):
    """A member's own trail delivering to a log-archive account that was not collected."""
    archive = "777788889999"
    archive_group = Seeder(aws, archive).log_group("us-east-1", "central-trail-logs")
    member = Seeder(aws, FIRST)
    trail_arn = member.trail("us-east-1", "to-archive", log_group_arn=archive_group)

    assert collector.collect("--account", FIRST).exit_code == 0
    verdict = collector.verdicts()[FIRST]
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"] == (
        f"trail {trail_arn} delivers to log group {archive_group.removesuffix(':*')}, "
        f"but CloudWatch Logs of account {archive} in us-east-1 was not collected"
    )


def test_an_alarm_topic_of_another_account_resolves_by_arn(aws, collector):
    alerts = Seeder(aws, SECOND)
    topic = alerts.topic("us-east-1", "org-security-alerts")
    alerts.subscription(topic)
    member = Seeder(aws, FIRST)
    chain = member.chain("us-east-1", subscriptions=())
    member.alarm("us-east-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[topic])

    assert collector.collect("--account", FIRST).exit_code == 0
    verdict = collector.verdicts()[FIRST]
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"] == (
        f"alarm {chain.alarm_arn} notifies SNS topic {topic}, "
        "whose account and region were not collected"
    )

    assert collector.collect("--account", FIRST, "--account", SECOND).exit_code == 0
    verdict = collector.verdicts()[FIRST]
    # the topic's default policy lets its own account publish, not the alarm's
    assert verdict["status"] == "NON_COMPLIANT", verdict["reason"]
    assert verdict["reason"] == (
        f"SNS topic {topic} of alarm {chain.alarm_arn} cannot deliver its notification: its "
        f"policy does not let CloudWatch of account {FIRST} publish (no Allow of sns:Publish "
        "to cloudwatch.amazonaws.com or to the account)")

    alerts.client("sns", "us-east-1").set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish", "Resource": topic,
                "Condition": {"StringEquals": {"aws:SourceAccount": FIRST}}}]}))
    assert collector.collect("--account", FIRST, "--account", SECOND).exit_code == 0
    verdict = collector.verdicts()[FIRST]
    assert verdict["status"] == "COMPLIANT", verdict["reason"]
    assert verdict["evidence"]["topic_arn"] == topic


def test_a_member_whose_management_account_was_not_collected(aws, collector):
    org = create_organization(aws, members=1, management=FIRST)
    organization_trail_chain(org)
    member = org.members[0]

    # --account alone: the member itself says which organisation it is in.
    assert collector.collect("--account", member).exit_code == 0
    assert collector.query("SELECT organization_id, management_account_id FROM cfgmon_account") == [
        (org.id, FIRST)
    ]
    verdict = collector.verdicts()[member]
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"] == (
        f"management account {FIRST} of organisation {org.id} was not collected, so an "
        f"organisation trail that applies to account {member} may be missing; "
        "best chain found: no CloudTrail trail applies to the account"
    )


def test_a_member_whose_management_account_could_not_be_collected(aws, collector, monkeypatch):
    org = create_organization(aws, members=1, management=FIRST)
    member = org.members[0]
    gate = RoleGate(denied={f"arn:aws:iam::{FIRST}:role/OrganizationAccountAccessRole"},
                    endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)

    assert collector.collect("--account", FIRST, "--account", member).exit_code == 1
    assert collector.verdicts()[member]["reason"].startswith(
        f"management account {FIRST} of organisation {org.id} could not be collected "
        f"(AccessDenied), so an organisation trail that applies to account {member} may be missing"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--account", "12345"), "--account '12345' is not an AWS account id (12 digits)"),
        (("--account", "12345678901a"), "--account '12345678901a' is not an AWS account id (12 digits)"),
        (("--role-name", "Audit"), "--role-name needs --account or --organization"),
        (("--account", FIRST, "--role-name", "bad name"),
         "--role-name 'bad name' is not an IAM role name "
         "(letters, digits and +=,.@_-, optionally behind a path/)"),
    ],
)
def test_bad_account_options_are_one_line_usage_errors(aws, collector, args, message):
    result = collector.collect(*args)
    assert result.exit_code == 2
    assert result.stderr == f"cfgmon: error: {message}\n"
