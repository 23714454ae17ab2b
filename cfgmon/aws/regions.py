"""Which regions to collect: those enabled in the account, narrowed by --region."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from cfgmon.aws.errors import CollectError
from cfgmon.aws.session import ApiCallCounter, ClientFactory, session_region
from cfgmon.aws.targets import AccountTarget
from cfgmon.aws.values import ENABLED_REGION_STATUSES

# How alike an unknown name and a region must be to suggest it: close enough for a
# typo (eu-west-3x, us-east1), too far for a made-up name to get a random region.
SUGGESTION_CUTOFF = 0.8


@dataclass(frozen=True)
class RegionPlan:
    """Regions to collect, and regions asked for but skipped with the reason why."""

    collect: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    # every region DescribeRegions listed, with its opt-in status, sorted; None when the
    # account's regions could not be listed
    listed: tuple[tuple[str, str], ...] | None = None


def parse_regions(values: Iterable[str]) -> tuple[str, ...]:
    """--region values as people type them: any case, several to a value separated
    by commas; each name once, in the order given."""
    names = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                raise CollectError(
                    f"--region {value!r} names an empty region; separate names with commas, "
                    "as in --region eu-west-1,us-east-1"
                )
            names.append(name)
    return tuple(dict.fromkeys(names))


def plan_regions(
    target: AccountTarget,
    clients: ClientFactory,
    requested: Sequence[str] | None = None,
    counter: ApiCallCounter | None = None,
) -> RegionPlan:
    """Regions to collect for `target`.

    Without `requested`, every region enabled in the account (EC2 DescribeRegions).
    With it, the requested regions in the order given: an unknown name is an error,
    a region the account has not opted into is skipped.
    """
    statuses = _region_statuses(target, clients, counter)
    if statuses is None:
        if not requested:
            raise CollectError(
                "cannot list the account's enabled regions (ec2:DescribeRegions failed); "
                "name them with --region"
            )
        known = set(target.session.get_available_regions("cloudtrail"))
        _check_known(requested, known)
        return RegionPlan(collect=tuple(dict.fromkeys(requested)))
    listed = tuple(sorted(statuses.items()))
    if not requested:
        enabled = sorted(name for name, status in statuses.items() if status in ENABLED_REGION_STATUSES)
        return RegionPlan(collect=tuple(enabled), listed=listed)
    _check_known(requested, set(statuses))
    collect, skipped = [], {}
    for name in dict.fromkeys(requested):
        if statuses[name] in ENABLED_REGION_STATUSES:
            collect.append(name)
        else:
            skipped[name] = f"region {name} is not enabled in account {target.account_id} ({statuses[name]})"
    return RegionPlan(collect=tuple(collect), skipped=skipped, listed=listed)


def _region_statuses(
    target: AccountTarget, clients: ClientFactory, counter: ApiCallCounter | None
) -> dict[str, str] | None:
    ec2 = clients.client(target.session, "ec2", session_region(target.session), counter)
    try:
        regions = ec2.describe_regions(AllRegions=True)["Regions"]
    except (ClientError, BotoCoreError):
        return None
    return {
        region["RegionName"]: region.get("OptInStatus", "opt-in-not-required")
        for region in regions
    }


class UnknownRegionError(CollectError):
    """A --region that names no region: bad input, the same for every account."""


def _check_known(requested: Sequence[str], known: set[str]) -> None:
    unknown = [name for name in requested if name not in known]
    if not unknown:
        return
    closest = difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=SUGGESTION_CUTOFF)
    hint = f"did you mean {closest[0]}?" if closest else f"known regions: {', '.join(sorted(known))}"
    raise UnknownRegionError(f"unknown region {unknown[0]!r}; {hint}")
