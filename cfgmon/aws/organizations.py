"""AWS Organizations: the organisation an account belongs to, and the organisation's accounts.

`describe_membership` asks one account which organisation it is in (any member may
call DescribeOrganization). `list_organization` asks the management account or a
delegated administrator for the organisation and every account in it (ListAccounts,
all pages); only ACTIVE accounts are collected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cfgmon.aws.errors import CollectError
from cfgmon.aws.session import ApiCallCounter, ClientFactory, session_region

SERVICE = "organizations"
NOT_IN_USE = "AWSOrganizationsNotInUseException"
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Membership:
    """The organisation an account belongs to; both None for an account outside any."""

    organization_id: str | None = None
    management_account_id: str | None = None


NOT_A_MEMBER = Membership()


@dataclass(frozen=True)
class OrganizationAccount:
    account_id: str
    name: str | None
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION

    @property
    def active(self) -> bool:
        return self.state == ACTIVE


@dataclass(frozen=True)
class Organization:
    membership: Membership
    accounts: tuple[OrganizationAccount, ...]

    @property
    def id(self) -> str | None:
        return self.membership.organization_id

    @property
    def management_account_id(self) -> str | None:
        return self.membership.management_account_id


def describe_membership(
    session: Any, clients: ClientFactory, counter: ApiCallCounter | None = None
) -> Membership | None:
    """The organisation the session's account belongs to.

    NOT_A_MEMBER when Organizations is not in use for the account; None when the
    account cannot tell (access denied, unreachable): membership is then unknown.
    """
    client = clients.client(session, SERVICE, session_region(session), counter)
    try:
        organization = client.describe_organization()["Organization"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == NOT_IN_USE:
            return NOT_A_MEMBER
        return None
    except BotoCoreError:
        return None
    return _membership(organization)


def list_organization(
    session: Any, clients: ClientFactory, counter: ApiCallCounter | None = None
) -> Organization:
    """The organisation of the session's account and all its accounts.

    Raises CollectError when the account is in no organisation or may not list its
    accounts (only the management account and delegated administrators may).
    """
    client = clients.client(session, SERVICE, session_region(session), counter)
    try:
        membership = _membership(client.describe_organization()["Organization"])
        accounts = [
            _account(item)
            for page in client.get_paginator("list_accounts").paginate()
            for item in page.get("Accounts") or ()
        ]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        if code == NOT_IN_USE:
            raise CollectError(
                "--organization: this account is not in an AWS organisation; "
                "name accounts with --account instead"
            ) from None
        raise CollectError(
            f"--organization: cannot list the organisation's accounts "
            f"(organizations:{exc.operation_name}): {code}: {error.get('Message', exc)}; "
            "run from the management account or a delegated administrator"
        ) from None
    except BotoCoreError as exc:
        raise CollectError(f"--organization: cannot reach AWS Organizations: {exc}") from None
    return Organization(membership, tuple(accounts))


def _membership(organization: dict) -> Membership:
    return Membership(organization.get("Id"), organization.get("MasterAccountId"))


def _account(item: dict) -> OrganizationAccount:
    # State replaced the deprecated Status in 2025; either may be all there is.
    return OrganizationAccount(
        account_id=item["Id"], name=item.get("Name"), state=item.get("State") or item.get("Status") or ""
    )
