"""`cfgmon demo`: accounts that show each verdict, in an in-process AWS simulation.

No AWS account or network is needed: a moto server runs on 127.0.0.1 inside this
process. Each demo account is built to show one thing a user should know about
the control, then everything is collected and checked exactly as real AWS would be.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cfgmon.simulation import MotoSimulation, Seeder
from cfgmon.simulation.seed import Chain
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
    build: Callable[[Seeder], Chain]  # the AWS Config chain of the story
    # the rest of the family on the same trail, log group and topic: how many of the
    # other controls have their filter and alarm, and patterns that differ from CIS's
    others: int | None = None         # None: every other control
    patterns: dict[str, str] = field(default_factory=dict)


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
        "half done: filters and alarms for 8 of the 15 controls, on a topic nobody subscribed to",
        lambda s: s.chain("eu-west-1", subscriptions=()),
        others=7,
    ),
    DemoAccount(
        "444444444444",
        "the only trail is single-region",
        lambda s: s.chain("us-east-1", multi_region=False),
    ),
    DemoAccount(
        "555555555555",
        "wildcard pattern \"*DeliveryChannel\": broader than CIS, still compliant; the "
        "security group filter is CIS v4.0.0's, without ModifySecurityGroupRules",
        lambda s: s.chain("eu-west-1", pattern=WILDCARD_PATTERN),
        patterns={"security_group_changes_monitoring": "cis-aws@4.0.0"},
    ),
    DemoAccount(
        "666666666666",
        "alarm in eu-west-1 watches a metric published in us-east-1",
        lambda s: _alarm_in_other_region(s),
    ),
)


def _alarm_in_other_region(seeder: Seeder) -> Chain:
    chain = seeder.chain("us-east-1")
    seeder.client("cloudwatch", "us-east-1").delete_alarms(AlarmNames=[chain.alarm_name])
    topic = seeder.topic("eu-west-1", "config-alerts")
    seeder.subscription(topic)
    seeder.alarm("eu-west-1", chain.alarm_name, metric_name=chain.metric_name,
                 alarm_actions=[topic])
    return chain


def build_family(seeder: Seeder, account: DemoAccount, chain: Chain) -> None:
    """The other controls of the family beside the story's chain: a metric filter with
    the reference pattern (of the framework version the account names) and an alarm on
    its metric, notifying the chain's topic."""
    from cfgmon.controls import latest_versions

    others = [v.control for v in latest_versions()
              if v.chain and v.control.id != "config_configuration_changes_monitoring"]
    for control in others[: account.others]:
        pattern = control.reference_for(account.patterns.get(control.id))
        metric = control.id.removesuffix("_monitoring").replace("_", "-")
        seeder.metric_filter(chain.region, chain.log_group_name, metric, pattern=pattern,
                             metric_name=metric, namespace="CISBenchmark", value="1")
        seeder.alarm(chain.region, metric, metric_name=metric, namespace="CISBenchmark",
                     alarm_actions=[chain.topic_arn])


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
            seeder = Seeder(aws, account.account_id)
            build_family(seeder, account, account.build(seeder))
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
        f"{program} check --db {quoted} --framework cis-aws@4.0.0 --account 555555555555   "
        "# judged by CIS v4.0.0's events",
    ]
