"""`cfgmon collect --organization`: every ACTIVE account, organisation trails for members."""

from __future__ import annotations

from org_scenario import create_organization, organization_trail_chain

from cfgmon.simulation import DEFAULT_ACCOUNT


def test_an_organisation_trail_makes_every_member_compliant(aws, collector):
    org = create_organization(aws, members=2)
    chain = organization_trail_chain(org)

    result = collector.collect("--organization")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        f"collected 24 scopes (2 regions, 3 accounts: {DEFAULT_ACCOUNT}, "
    )

    verdicts = collector.verdicts()
    assert set(verdicts) == {org.management, *org.members}
    for member in org.members:
        verdict = verdicts[member]
        assert verdict["status"] == "COMPLIANT", verdict["reason"]
        # The member's chain runs through the management account's resources.
        evidence = verdict["evidence"]
        assert evidence["trail_arn"] == chain.trail_arn
        assert evidence["log_group_arn"] == chain.log_group_arn.removesuffix(":*")
        assert evidence["alarm_arn"] == chain.alarm_arn
        assert evidence["topic_arn"] == chain.topic_arn
        assert f":{org.management}:" in evidence["alarm_arn"]
    assert verdicts[org.management]["status"] == "COMPLIANT"

    assert sorted(collector.query(
        "SELECT account_id, source, status, organization_id, management_account_id "
        "FROM cfgmon_account"
    )) == sorted(
        [(org.management, "caller", "ok", org.id, org.management)]
        + [(member, "organization", "ok", org.id, org.management) for member in org.members]
    )


def test_members_see_nothing_of_a_trail_that_is_not_an_organisation_trail(aws, collector):
    org = create_organization(aws, members=1)
    org.seeder(org.management).chain("us-east-1")  # an ordinary trail of the management account
    assert collector.collect("--organization").exit_code == 0
    verdicts = collector.verdicts()
    assert verdicts[org.management]["status"] == "COMPLIANT"
    member = org.members[0]
    assert verdicts[member]["status"] == "NON_COMPLIANT"
    assert verdicts[member]["reason"] == f"no CloudTrail trail applies to account {member}"


def test_members_are_assumed_with_the_role_name(aws, collector, monkeypatch):
    from org_scenario import RoleGate

    org = create_organization(aws, members=2)
    gate = RoleGate(endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: gate)

    # In one process: the gate records the roles asked for where they are assumed.
    assert collector.collect("--organization", "--processes", "1",
                             regions=("us-east-1",)).exit_code == 0
    # The caller's own account uses its own credentials: no role assumed there.
    assert sorted(gate.asked) == sorted(
        f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole" for member in org.members
    )
    gate.asked.clear()
    assert collector.collect("--organization", "--role-name", "audit/CfgmonReader",
                             "--processes", "1", regions=("us-east-1",)).exit_code == 0
    assert sorted(gate.asked) == sorted(
        f"arn:aws:iam::{member}:role/audit/CfgmonReader" for member in org.members
    )


def test_accounts_not_active_are_left_out(aws, collector):
    org = create_organization(aws, members=2)
    closed = org.members[1]
    org.seeder(org.management).client("organizations", "us-east-1").close_account(AccountId=closed)

    result = collector.collect("--organization", regions=("us-east-1",))
    assert result.exit_code == 0, result.stderr
    assert f"not collected, not ACTIVE in the organisation: {closed} (SUSPENDED)" in result.stderr
    assert {a for (a,) in collector.query("SELECT account_id FROM cfgmon_account")} == {
        org.management, org.members[0]
    }


def test_every_page_of_the_account_list_is_read(aws, collector):
    # moto pages ListAccounts by 100: 101 members and the management account make two pages.
    org = create_organization(aws, members=101)
    last = org.members[-1]
    org.seeder(last).topic("us-east-1", "last-page")

    result = collector.collect("--organization", "--account", last, regions=("us-east-1",))
    assert result.exit_code == 0, result.stderr
    assert collector.query("SELECT account_id, name FROM aws_sns_topic") == [(last, "last-page")]
    assert collector.query("SELECT organization_id, management_account_id FROM cfgmon_account") == [
        (org.id, org.management)
    ]


def test_an_account_outside_the_organisation_is_a_usage_error(aws, collector):
    org = create_organization(aws, members=1)
    result = collector.collect("--organization", "--account", "999999999999")
    assert result.exit_code == 2
    assert result.stderr == (
        f"cfgmon: error: --account 999999999999 is not in organisation {org.id}\n"
    )


def test_organization_outside_any_organisation_is_a_usage_error(aws, collector):
    result = collector.collect("--organization")
    assert result.exit_code == 2
    assert result.stderr == (
        "cfgmon: error: --organization: this account is not in an AWS organisation; "
        "name accounts with --account instead\n"
    )


def test_organisation_trail_seen_in_the_members_own_listing(aws, collector, monkeypatch):
    """Real AWS lists an organisation trail in every member's DescribeTrails too."""
    from org_scenario import OrganizationTrailInMemberListing

    org = create_organization(aws, members=1)
    chain = organization_trail_chain(org)
    member = org.members[0]
    trails = org.seeder(org.management).client("cloudtrail", "us-east-1").describe_trails()["trailList"]
    factory = OrganizationTrailInMemberListing(trails=trails, members={member},
                                               endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: factory)

    # With the management account collected, its own copy of the trail decides.
    assert collector.collect("--organization").exit_code == 0
    verdict = collector.verdicts()[member]
    assert verdict["status"] == "COMPLIANT", verdict["reason"]
    assert verdict["evidence"]["trail_arn"] == chain.trail_arn
    # The member's own copy is stored under the member, with why its details are missing.
    [(owner, error)] = collector.query(
        "SELECT owner_account_id, detail_error FROM aws_cloudtrail_trail WHERE account_id = ?",
        [member],
    )
    assert owner == org.management and "TrailNotFoundException" in error


def test_organisation_trail_in_the_member_listing_without_the_management_account(
    aws, collector, monkeypatch
):
    from org_scenario import OrganizationTrailInMemberListing

    org = create_organization(aws, members=1)
    chain = organization_trail_chain(org)
    member = org.members[0]
    trails = org.seeder(org.management).client("cloudtrail", "us-east-1").describe_trails()["trailList"]
    factory = OrganizationTrailInMemberListing(trails=trails, members={member},
                                               endpoint_url=aws.endpoint)
    monkeypatch.setattr("cfgmon.aws.ClientFactory", lambda **kw: factory)

    assert collector.collect("--account", member).exit_code == 0
    verdict = collector.verdicts()[member]
    assert verdict["status"] == "INSUFFICIENT_DATA"
    assert verdict["reason"] == (
        f"the logging status of trail {chain.trail_arn} could not be collected"
    )


def test_a_dimension_read_from_the_event_is_each_member_s_own(aws, collector):
    """An organisation trail's filter publishing the member's id as a dimension
    ({"Account": "$.recipientAccountId"}) is watched, for each member, by the alarm on
    that member's id: the catalogue is read in the judged member's rendering."""
    org = create_organization(aws, members=2)
    chain = organization_trail_chain(org)
    seeder = org.seeder(org.management)
    logs = seeder.client("logs", chain.region)
    logs.delete_metric_filter(logGroupName=chain.log_group_name, filterName=chain.filter_name)
    seeder.metric_filter(chain.region, chain.log_group_name, chain.filter_name,
                         metric_name=chain.metric_name,
                         dimensions={"Account": "$.recipientAccountId"})
    watched, unwatched = org.members
    seeder.client("cloudwatch", chain.region).delete_alarms(AlarmNames=[chain.alarm_name])
    for account in (org.management, watched):
        seeder.alarm(chain.region, f"config-changes-{account}", metric_name=chain.metric_name,
                     alarm_actions=[chain.topic_arn], dimensions={"Account": account})

    assert collector.collect("--organization").exit_code == 0
    verdicts = collector.verdicts()
    for account in (org.management, watched):
        assert verdicts[account]["status"] == "COMPLIANT", verdicts[account]["reason"]
        assert verdicts[account]["evidence"]["alarm_arn"] == seeder.alarm_arn(
            chain.region, f"config-changes-{account}")
    verdict = verdicts[unwatched]
    assert verdict["status"] == "NON_COMPLIANT"
    assert verdict["reason"].startswith(
        f"no alarm in account {org.management} region {chain.region} watches metric "
        f"{chain.namespace}/{chain.metric_name} of metric filter {chain.filter_name}; closest: ")
    assert (f"but on other dimensions than the filter publishes, such as Account={unwatched} "
            in verdict["reason"])
