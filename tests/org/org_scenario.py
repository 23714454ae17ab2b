"""The org tests' world: organisations in a real moto server, and the injected behaviours.

moto 5.2.5 facts these tests build on:
- CreateOrganization makes the caller the management account; CreateAccount makes
  an ACTIVE member with a random 12-digit id (and an OrganizationAccountAccessRole);
  DescribeOrganization answers in members too; ListAccounts only in the management
  account, 100 accounts a page.
- STS AssumeRole succeeds for any role ARN and the credentials act in the role's
  account; nothing in moto refuses it, so `RoleGate` refuses it (below).
- An organisation trail is listed by its owner's DescribeTrails only, never in the
  members' (real AWS lists it in both); `OrganizationTrailInMemberListing` adds it.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from dataclasses import dataclass, field

import duckdb
from botocore.awsrequest import AWSResponse

from cfgmon.aws import ClientFactory
from cfgmon.aws.session import acting_role_arn
from cfgmon.simulation import DEFAULT_ACCOUNT, Seeder

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

REGIONS = ("us-east-1", "eu-west-1")
CONTROL = "config_configuration_changes_monitoring"


@dataclass
class Org:
    id: str
    management: str
    members: list[str]
    seeders: dict[str, Seeder] = field(default_factory=dict)

    def seeder(self, account_id: str) -> Seeder:
        return self.seeders[account_id]


def create_organization(aws, members: int = 2, management: str = DEFAULT_ACCOUNT) -> Org:
    """An organisation managed by `management` (moto's default account: the caller) with
    `members` new accounts, and a Seeder for each."""
    seeder = Seeder(aws, management)
    organizations = seeder.client("organizations", "us-east-1")
    org = organizations.create_organization(FeatureSet="ALL")["Organization"]
    ids = []
    for number in range(members):
        status = organizations.create_account(
            AccountName=f"member-{number}", Email=f"member-{number}@example.com"
        )["CreateAccountStatus"]
        ids.append(status["AccountId"])
    seeders = {management: seeder} | {account: Seeder(aws, account) for account in ids}
    return Org(org["Id"], org["MasterAccountId"], ids, seeders)


def organization_trail_chain(org: Org, region: str = "us-east-1"):
    """The management account's whole chain, fed by an organisation trail."""
    seeder = org.seeder(org.management)
    chain = seeder.chain(region, prefix="org", with_trail=False)
    chain.trail_name = "org-trail"
    chain.trail_arn = seeder.trail(region, "org-trail", organization=True,
                                   log_group_arn=chain.log_group_arn)
    return chain


class Collector:
    """Runs `cfgmon collect` and `cfgmon check` against the moto server."""

    def __init__(self, aws, cli, db):
        self.aws, self.cli, self.db = aws, cli, str(db)

    def collect(self, *args: str, regions=REGIONS, endpoint: str | None = None):
        region_args = [arg for region in regions for arg in ("--region", region)]
        return self.cli("collect", "--db", self.db, "--endpoint-url", endpoint or self.aws.endpoint,
                        *region_args, *args)

    def verdicts(self) -> dict[str, dict]:
        result = self.cli("check", "--db", self.db, "--control", CONFIG_CONTROL, "--format", "json")
        assert result.exit_code in (0, 1), result.stderr
        return {row["account_id"]: row for row in json.loads(result.stdout)}

    def query(self, sql: str, params=()) -> list[tuple]:
        con = duckdb.connect(self.db, read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()


# -- injected behaviour ---------------------------------------------------------------


class _Body(io.BytesIO):
    def stream(self, **_kwargs):
        yield self.read()


def sts_access_denied(url: str, role_arn: str, caller_arn: str) -> AWSResponse:
    """The 403 STS sends when the role's trust policy does not admit the caller."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        "<Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>User: {caller_arn} is not authorized to perform: sts:AssumeRole on "
        f"resource: {role_arn}</Message></Error>"
        "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
    )
    return AWSResponse(url, 403, {"Content-Type": "text/xml"}, _Body(body.encode()))


class RoleGate(ClientFactory):
    """Refuses AssumeRole of the `denied` role ARNs the way STS does; records every role asked for.

    The refusal is a real HTTP-shaped 403 answer that botocore parses with its own
    error parser, given to the one AssumeRole call that names a denied role (a
    `before-send` hook, the mechanism botocore's Stubber builds on, keyed on the
    request's RoleArn). Every other call, other AssumeRoles included, reaches moto.
    moto itself lets anyone assume any role, so a refusal has to be injected.
    """

    def __init__(self, *, denied=(), **kwargs) -> None:
        super().__init__(**kwargs)
        self.denied = set(denied)
        self.asked: list[str] = []

    def _new_client(self, session, service, region):
        client = super()._new_client(session, service, region)
        if service == "sts":
            client.meta.events.register("before-send.sts.AssumeRole", self._gate)
        return client

    def _gate(self, request, **_kwargs):
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        role_arn = urllib.parse.parse_qs(body)["RoleArn"][0]
        self._asked(role_arn)
        if role_arn in self.denied:
            return sts_access_denied(request.url, role_arn, f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/cfgmon")
        return None

    def _asked(self, role_arn: str) -> None:
        """Runs on the thread that asks for the role (a pool worker); subclasses watch here."""
        self.asked.append(role_arn)


class OrganizationTrailInMemberListing(ClientFactory):
    """Members' DescribeTrails also lists the organisation trail, as real AWS does.

    moto lists an organisation trail in its owner's DescribeTrails only. Here the
    answer a member's client gets from moto is extended with the trail as its owner
    sees it (fetched from moto with the owner's credentials); the member's
    GetTrailStatus and GetEventSelectors for it still go to moto, which does not
    know the trail in the member account and refuses them (TrailNotFoundException),
    as a member's view of an organisation trail may lack its details.
    """

    def __init__(self, *, trails: list[dict], members: set[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.trails = trails
        self.members = members

    def _new_client(self, session, service, region):
        client = super()._new_client(session, service, region)
        if service == "cloudtrail":
            client.meta.events.register("after-call.cloudtrail.DescribeTrails", self._add_trails)
        return client

    def _add_trails(self, parsed, **_kwargs):
        # One client serves every account: the call's own binding says whose it is.
        role_arn = acting_role_arn()
        if role_arn is None or role_arn.split(":")[4] not in self.members:
            return
        listed = {trail["TrailARN"] for trail in parsed.get("trailList", [])}
        parsed.setdefault("trailList", []).extend(
            trail for trail in self.trails if trail["TrailARN"] not in listed
        )
