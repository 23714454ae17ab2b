"""How a control's catalogue is rendered for the account it judges: the decisions, once.

A catalogue record is written for one account (CATALOGUE_ACCOUNT) in one region. The
account whose chain is judged makes the same calls with its own id, and in its own
regions, so a pattern is judged against the records as that account would produce
them:

- its id stands wherever the catalogue's does (recipientAccountId,
  userIdentity.accountId, ARNs). Decided: the catalogue's id is AWS's documentation
  example, found in no real record.
- a regional record happens in every region the account uses: it is rendered once per
  region of the account, the record's region text (awsRegion, and ARNs and endpoints
  that name it) replaced by that region's. Evidence: CloudTrail's record contents page
  ("awsRegion: the AWS Region that the request was made to"); an account makes no
  calls in a region it has not enabled (EC2 DescribeRegions: a region whose opt-in
  status is not-opted-in "is disabled", no resource can be created or reached there).
  Decided: the regions an account uses are the regions it has enabled, as
  DescribeRegions listed them at collection (cfgmon_account_region), whatever
  `collect --region` narrowed the collection to: an operator who collects fewer
  regions has not stopped the account from making calls in the others, and a
  multi-region trail records them. Where the account's regions were never listed
  (DescribeRegions refused, or a database collected before schema version 5) the
  regions collected for it stand in (cfgmon_collection, less the regions skipped as
  not enabled), with, in the commercial partition, the regions every account has
  (DEFAULT_REGIONS: opt-in-not-required, "enabled by default"; the Account Management
  API's DisableRegion turns off opt-in regions only, so no account lacks these); an
  account with neither keeps the catalogue's own regions.
- a global service event (IAM, Organizations, CloudFront, Route 53 in us-east-1) stays
  in us-east-1 whatever the account's regions: CloudTrail delivers those as us-east-1
  events ("global service events" in the CloudTrail user guide).
- a rendered record is matched when each of its copies is (the event may happen in any
  of the account's regions); a near miss or an ordinary record counts as matched
  when any copy is.
- a reason names the regions a record is missed in, or, when it is missed in more of
  the account's regions than it is matched in, the regions it is matched in ("in
  every region but us-east-1"): a filter narrowed to one region of seventeen reads
  better so.
- a metric value is read in the account's id only: a region's name is never a number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cfgmon.aws.values import ENABLED_REGION_STATUSES
from cfgmon.controls.catalogue import CATALOGUE_ACCOUNT, CatalogueEvent

# Services whose events CloudTrail delivers as global (us-east-1) events.
# STS and console sign-in are regional where a regional endpoint is used: a record
# says where it was delivered, and a multi-region trail records every region anyway.
GLOBAL_EVENT_SOURCES = frozenset({
    "iam.amazonaws.com", "organizations.amazonaws.com", "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
})
GLOBAL_EVENT_REGION = "us-east-1"
# The commercial partition's regions enabled by default in every account (EC2
# DescribeRegions: opt-in-not-required; every region added since March 2019 is opt-in).
DEFAULT_REGIONS = (
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
    "us-west-2",
)
# A commercial region's name (botocore's partitions.json, partition "aws"): GovCloud
# (us-gov-west-1), China (cn-north-1), the European Sovereign Cloud (eusc-de-east-1)
# and the isolated partitions (us-iso-east-1) are named otherwise.
COMMERCIAL_REGION = re.compile(r"(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-[0-9]+")


def is_global_event(record: dict) -> bool:
    return (record.get("eventSource") in GLOBAL_EVENT_SOURCES
            and record.get("awsRegion") == GLOBAL_EVENT_REGION)


def regional_region(record: dict) -> str | None:
    """The region a record's copies replace, or None for a record that stays put."""
    region = record.get("awsRegion")
    if not isinstance(region, str) or not region or is_global_event(record):
        return None
    return region


def catalogue_regions(events: Sequence[CatalogueEvent]) -> frozenset[str]:
    """The region names a rendering may replace in these records."""
    return frozenset(filter(None, (regional_region(e.record) for e in events)))


@dataclass(frozen=True)
class Rendering:
    """An account's rendering of a catalogue: '' and () keep the catalogue's own."""

    account_id: str = ""
    regions: tuple[str, ...] = ()

    def texts(self, events: Sequence[CatalogueEvent]) -> list[str]:
        """Each record's rendered log events, its copies in a row (copies())."""
        texts: list[str] = []
        for event in events:
            text = event.text
            if self.account_id:
                text = text.replace(CATALOGUE_ACCOUNT, self.account_id)
            region = regional_region(event.record) if self.regions else None
            texts += [text] if region is None else [text.replace(region, r) for r in self.regions]
        return texts

    def copies(self, events: Sequence[CatalogueEvent]) -> list[list[int]]:
        """For each record, the indexes of its copies among texts()' log events (known
        without rendering them)."""
        copies: list[list[int]] = []
        count = 0
        for event in events:
            n = len(self.regions) if self.regions and regional_region(event.record) else 1
            copies.append(list(range(count, count + n)))
            count += n
        return copies


def where_missed(regions: Sequence[str], hits: Sequence[int]) -> str:
    """Where a record rendered in `regions` is missed (decided above); `hits` says, per
    region, whether its copy there is matched."""
    missed = [region for region, hit in zip(regions, hits, strict=True) if not hit]
    matched = [region for region, hit in zip(regions, hits, strict=True) if hit]
    if len(missed) > len(matched):
        return f"in every region but {', '.join(matched)}"
    return f"in {', '.join(missed)}"


def account_regions(con) -> dict[str, tuple[str, ...]]:
    """The regions each account uses (decided above): its enabled regions where
    collection listed them, else the regions collected for it and the default ones.

    A region collect skipped (status 'skipped': the account has not enabled it) is not
    one the account uses; a failed scope still names an enabled region."""
    enabled = ", ".join(f"'{status}'" for status in ENABLED_REGION_STATUSES)
    regions: dict[str, list[str]] = {}
    listed: set[str] = set()
    for account, region, was_listed in con.execute(
        f"""
        SELECT account_id, region, TRUE FROM cfgmon_account_region
        WHERE opt_in_status IN ({enabled})
        UNION ALL
        SELECT DISTINCT account_id, region, FALSE FROM cfgmon_collection c
        WHERE status IN ('ok', 'error')
          AND NOT EXISTS (SELECT 1 FROM cfgmon_account_region l
                          WHERE l.account_id = c.account_id)
        ORDER BY 1, 2"""
    ).fetchall():
        regions.setdefault(account, []).append(region)
        if was_listed:
            listed.add(account)
    return {account: tuple(names) if account in listed else _with_default_regions(tuple(names))
            for account, names in regions.items()}


def _with_default_regions(collected: tuple[str, ...]) -> tuple[str, ...]:
    """Regions collected for an account whose regions were never listed, with the ones
    every commercial account has (decided above)."""
    if not all(COMMERCIAL_REGION.fullmatch(region) for region in collected):
        return collected
    return tuple(sorted({*collected, *DEFAULT_REGIONS}))


CATALOGUE = Rendering()  # the catalogue's own account and regions
