"""Trail capture, decided record by record as CloudTrail would (the rules the chain
tests do not reach through a multi-region trail)."""

from __future__ import annotations

from cfgmon.controls.catalogue import CatalogueEvent
from cfgmon.controls.trail_capture import BasicSelector, TrailSelectors, judge


def _event(name, source, region, account="111122223333", read_only=False):
    return CatalogueEvent(f"{name} in {region} of {account}", {
        "eventName": name, "eventSource": source, "awsRegion": region, "readOnly": read_only,
        "recipientAccountId": account, "managementEvent": True, "eventCategory": "Management"})


def _trail(**changes):
    settings = dict(multi_region=True, home_region="eu-west-1", include_global_events=True,
                    organization_trail=False, collected=True, basic=(), advanced=())
    return TrailSelectors(**(settings | changes))


IAM = _event("PutRolePolicy", "iam.amazonaws.com", "us-east-1")
EC2_FAR = _event("CreateVpc", "ec2.amazonaws.com", "ap-south-1")
MEMBER = _event("LeaveOrganization", "organizations.amazonaws.com", "us-east-1", account="444455556666")


def test_a_single_region_trail_records_its_home_region_and_global_events_only_if_included():
    single = _trail(multi_region=False)
    capture = judge(single, [IAM, EC2_FAR])
    assert capture.captures is False
    assert capture.missed_because == "it records only its home region eu-west-1"
    no_global = judge(_trail(multi_region=False, include_global_events=False), [IAM])
    assert no_global.missed_because == "it does not include global service events"


def test_a_members_record_needs_an_organisation_trail():
    events = [IAM, MEMBER, _event("CreateAccount", "organizations.amazonaws.com", "us-east-1")]
    assert judge(_trail(), events).missed_because == (
        "it is not an organisation trail, so it records no member account's events")
    assert judge(_trail(organization_trail=True), events).captures is True


def test_read_and_write_selectors_and_excluded_sources():
    write_only = _trail(basic=(BasicSelector("WriteOnly", True, ()),))
    read = _event("DescribeKey", "kms.amazonaws.com", "eu-west-1", read_only=True)
    assert judge(write_only, [EC2_FAR]).captures is True
    assert judge(write_only, [read]).missed_because == "it records write events only"
    no_kms = _trail(basic=(BasicSelector("All", True, ("kms.amazonaws.com",)),))
    assert judge(no_kms, [read]).missed_because == "it excludes management events of kms.amazonaws.com"


def test_advanced_selectors_name_the_condition_that_leaves_records_out():
    not_kms = _trail(advanced=((("eventCategory", "Equals", "Management"),
                                ("eventSource", "NotEquals", "kms.amazonaws.com")),))
    key = _event("ScheduleKeyDeletion", "kms.amazonaws.com", "eu-west-1")
    assert judge(not_kms, [EC2_FAR]).captures is True
    assert judge(not_kms, [key]).missed_because == (
        "its advanced event selector on management events requires eventSource NotEquals "
        "kms.amazonaws.com")


def test_unknown_selectors_leave_the_answer_unknown():
    assert judge(_trail(collected=False), [IAM]).captures is None
