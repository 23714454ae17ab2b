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
  calls in a region it has not enabled. Decided: the regions an account uses are the
  regions cfgmon collected for it (cfgmon_collection: the enabled regions, or those
  `collect --region` named, less the ones skipped as not enabled); an account with no collected region keeps the
  catalogue's own regions.
- a global service event (IAM, Organizations, CloudFront, Route 53 in us-east-1) stays
  in us-east-1 whatever the account's regions: CloudTrail delivers those as us-east-1
  events ("global service events" in the CloudTrail user guide).
- a rendered record is matched when each of its copies is (the event may happen in any
  of the account's regions); a near miss or an ordinary record counts as matched
  when any copy is.
- a metric value is read in the account's id only: a region's name is never a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cfgmon.controls.catalogue import CATALOGUE_ACCOUNT, CatalogueEvent

# Services whose events CloudTrail delivers as global (us-east-1) events.
# STS and console sign-in are regional where a regional endpoint is used: a record
# says where it was delivered, and a multi-region trail records every region anyway.
GLOBAL_EVENT_SOURCES = frozenset({
    "iam.amazonaws.com", "organizations.amazonaws.com", "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
})
GLOBAL_EVENT_REGION = "us-east-1"


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

    def texts(self, events: Sequence[CatalogueEvent]) -> tuple[list[str], list[list[int]]]:
        """Each record's rendered log events, and for each record the indexes of its
        copies among them."""
        texts: list[str] = []
        copies: list[list[int]] = []
        for event in events:
            text = event.text
            if self.account_id:
                text = text.replace(CATALOGUE_ACCOUNT, self.account_id)
            region = regional_region(event.record) if self.regions else None
            rendered = [text] if region is None else [text.replace(region, r) for r in self.regions]
            copies.append(list(range(len(texts), len(texts) + len(rendered))))
            texts += rendered
        return texts, copies


def account_regions(con) -> dict[str, tuple[str, ...]]:
    """The regions each account uses, as cfgmon collected them (decided above).

    A region collect skipped (status 'skipped': the account has not enabled it) is not
    one the account uses: no call can be made there. A failed scope still names an
    enabled region."""
    regions: dict[str, list[str]] = {}
    for account, region in con.execute(
        "SELECT DISTINCT account_id, region FROM cfgmon_collection "
        "WHERE status IN ('ok', 'error') ORDER BY 1, 2"
    ).fetchall():
        regions.setdefault(account, []).append(region)
    return {account: tuple(names) for account, names in regions.items()}


CATALOGUE = Rendering()  # the catalogue's own account and regions
