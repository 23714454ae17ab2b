"""`cfgmon demo`: accounts that show each verdict, in an in-process AWS simulation.

No AWS account or network is needed: a moto server runs on 127.0.0.1 inside this
process. Each demo account is built to show one thing a user should know about
the control, then everything is collected and checked exactly as real AWS would be.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cfgmon.simulation import MotoSimulation, Seeder
from cfgmon.text import counted

REGIONS = ("us-east-1", "eu-west-1")

AND_FOR_OR_PATTERN = (
    "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)"
    "&&($.eventName=DeleteDeliveryChannel)&&($.eventName=PutDeliveryChannel)"
    "&&($.eventName=PutConfigurationRecorder)) }"
)
WILDCARD_PATTERN = (
    '{ $.eventSource = "config.amazonaws.com" && ($.eventName = "*ConfigurationRecorder" '
    '|| $.eventName = "*DeliveryChannel") }'
)


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    story: str                       # what the account shows, in one line
    build: Callable[[Seeder], None]


DEMO_ACCOUNTS = (
    DemoAccount(
        "111111111111",
        "the CIS chain, whole: multi-region trail to CloudWatch Logs, filter, alarm, confirmed e-mail",
        lambda s: s.chain("us-east-1"),
    ),
    DemoAccount(
        "222222222222",
        "filter joins the event names with && instead of || (regex-based tools pass it)",
        lambda s: s.chain("us-east-1", pattern=AND_FOR_OR_PATTERN),
    ),
    DemoAccount(
        "333333333333",
        "alarm notifies an SNS topic that nobody has subscribed to",
        lambda s: s.chain("eu-west-1", subscriptions=()),
    ),
    DemoAccount(
        "444444444444",
        "the only trail is single-region",
        lambda s: s.chain("us-east-1", multi_region=False),
    ),
    DemoAccount(
        "555555555555",
        "wildcard pattern \"*DeliveryChannel\": broader than CIS, still compliant",
        lambda s: s.chain("eu-west-1", pattern=WILDCARD_PATTERN),
    ),
    DemoAccount(
        "666666666666",
        "alarm in eu-west-1 watches a metric published in us-east-1",
        lambda s: _alarm_in_other_region(s),
    ),
)


def _alarm_in_other_region(seeder: Seeder) -> None:
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    topic = seeder.topic("eu-west-1", "config-alerts")
    seeder.subscription(topic)
    seeder.alarm("eu-west-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[topic])


@dataclass
class DemoRun:
    db: Path
    endpoint: str
    accounts: tuple[DemoAccount, ...]


def build_and_collect(db: Path, *, progress=None, say: Callable[[str], None] = print) -> DemoRun:
    """Start the simulation, build the demo organisation, collect it into `db`.

    The first demo account manages an AWS organisation whose members are the
    others; cfgmon runs with the management account's credentials and collects the
    organisation as `cfgmon collect --organization` does: every ACTIVE account,
    each member through OrganizationAccountAccessRole.
    """
    from cfgmon.aws import ClientFactory, caller_target, collect, organization_targets
    from cfgmon.simulation.organization import create_organization
    from cfgmon.store import open_database

    for suffix in ("", ".wal"):  # the demo's own database starts afresh
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with MotoSimulation() as aws:
        # moto keeps its state per process: start from an empty simulated world even
        # when something else in this process used moto before.
        aws.reset()
        say(f"Started an AWS simulation (moto) at {aws.endpoint}; no AWS account is used.")
        management, *members = (account.account_id for account in DEMO_ACCOUNTS)
        organization = create_organization(aws, management, members)
        say(f"  organisation {organization.id}: management account {management}, "
            f"{counted(len(members), 'member account')}")
        for account in DEMO_ACCOUNTS:
            account.build(Seeder(aws, account.account_id))
            say(f"  built account {account.account_id}: {account.story}")
        clients = ClientFactory(endpoint_url=aws.endpoint)
        caller = caller_target(aws.session(management), clients)
        targets = organization_targets(caller, clients).targets
        say(f"Collecting the organisation ({counted(len(targets), 'account')} x "
            f"{counted(len(REGIONS), 'region')}) "
            f"into {db} ...")
        con = open_database(db)
        try:
            collect(con, targets, clients=clients, regions=list(REGIONS), progress=progress)
        finally:
            con.close()
        return DemoRun(db=db, endpoint=aws.endpoint, accounts=DEMO_ACCOUNTS)


def next_commands(db: Path, program: str = "cfgmon") -> list[str]:
    """The commands worth trying next, spelt with `program`, the way this cfgmon was run
    (`.venv/bin/cfgmon` after `make demo`, where `cfgmon` alone is not on the PATH)."""
    quoted = shlex.quote(str(db))
    return [
        f"{program} check --db {quoted} --format json          # verdicts with their evidence",
        f"{program} check --db {quoted} --format asff --output findings.json   # for Security Hub",
        f"{program} sql --db {quoted} \"SELECT account_id, name, filter_pattern "
        "FROM aws_cloudwatch_log_metric_filter\"",
        f"{program} pattern test '{{ $.eventName = \"*DeliveryChannel\" }}' "
        "--control config_configuration_changes_monitoring",
        f"{program} controls show config_configuration_changes_monitoring",
    ]
