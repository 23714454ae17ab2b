"""The accounts a collection covers: each one an account id and a session that reaches it.

An `AccountTarget` is an account with a session in hand (the caller's own). A
`RoleTarget` is an account reached by assuming a role from the caller's session;
the collector opens it (STS AssumeRole) on its worker pool, so a thousand accounts
are not assumed one after the other, and an account whose role cannot be assumed
is recorded as such while the others go on.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cfgmon.aws.defaults import DEFAULT_ROLE_NAME
from cfgmon.aws.errors import CollectError
from cfgmon.aws.organizations import Membership, Organization, list_organization
from cfgmon.aws.session import (
    ApiCallCounter,
    ClientFactory,
    MalformedResponseError,
    session_region,
)
from cfgmon.aws.values import parse_arn
from cfgmon.shards import Shard
from cfgmon.store.keys import utc_now

ROLE_SESSION_NAME = "cfgmon"
# Assumed credentials are renewed when they have less than this left.
RENEW_BEFORE = dt.timedelta(minutes=10)

_ACCOUNT_ID = re.compile(r"\d{12}")
# IAM role names, optionally behind a path: letters, digits and +=,.@_- (and / in paths).
_ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")


@dataclass(frozen=True)
class AccountTarget:
    """One account to collect and the session whose credentials act in it.

    `source` says how the session was obtained: caller (the credentials cfgmon runs
    with), assumed-role or organization. `membership` is the account's organisation
    when already known (from the organisation's listing); None means the collector
    asks the account itself (DescribeOrganization).
    """

    account_id: str
    session: Any  # a boto3.Session, or an AssumedRoleSession
    source: str = "caller"
    membership: Membership | None = None
    partition: str = "aws"

    def __repr__(self) -> str:  # never show the session: it holds credentials
        return f"AccountTarget(account_id={self.account_id!r}, source={self.source!r})"

    def open(self, clients: ClientFactory, counter: ApiCallCounter | None = None) -> AccountTarget:
        return self


class AccountUnavailable(Exception):
    """An account that cannot be reached: its role could not be assumed, say."""

    def __init__(self, account_id: str, code: str, message: str) -> None:
        super().__init__(f"account {account_id}: {code}: {message}")
        self.account_id = account_id
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RoleTarget:
    """An account reached by assuming `role_arn` with the caller's session."""

    account_id: str
    role_arn: str
    caller: Any = field(repr=False)  # the boto3.Session that assumes the role
    source: str = "assumed-role"
    membership: Membership | None = None
    partition: str = "aws"

    def open(self, clients: ClientFactory, counter: ApiCallCounter | None = None) -> AccountTarget:
        """Assume the role; raises AccountUnavailable when STS refuses or cannot be reached."""
        session = AssumedRoleSession(self.caller, self.role_arn, clients, counter)
        try:
            session.renew()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AccountUnavailable(
                self.account_id,
                error.get("Code") or "ClientError",
                f"cannot assume role {self.role_arn}: {error.get('Message') or exc}",
            ) from None
        except BotoCoreError as exc:
            raise AccountUnavailable(
                self.account_id, type(exc).__name__, f"cannot assume role {self.role_arn}: {exc}"
            ) from None
        return AccountTarget(
            self.account_id, session, self.source, self.membership, self.partition
        )


Target = AccountTarget | RoleTarget


@dataclass(frozen=True)
class TargetRecipe:
    """A target as another process makes it again from the caller's session: the
    account and the role to assume in it (None: the caller's own credentials), no
    session and no credentials."""

    account_id: str
    role_arn: str | None
    source: str
    membership: Membership | None
    partition: str

    def target(self, caller: Any) -> Target:
        if self.role_arn is None:
            return AccountTarget(self.account_id, caller, self.source, self.membership,
                                 self.partition)
        return RoleTarget(self.account_id, self.role_arn, caller, self.source, self.membership,
                          self.partition)


def target_recipe(target: Target) -> TargetRecipe:
    role = target.role_arn if isinstance(target, RoleTarget) else None
    return TargetRecipe(target.account_id, role, target.source, target.membership,
                        target.partition)


def caller_session(target: Target) -> Any:
    """The session a target acts through: its own, or the one that assumes its role."""
    return target.caller if isinstance(target, RoleTarget) else target.session


class AssumedRoleSession:
    """Acts in another account with an assumed role's temporary credentials.

    Its clients are the caller's session's, shared by every account (see
    ClientFactory), each request signed with this role's credentials: a boto3 Session
    or client per account would cost more CPU than the account's calls. The
    credentials are renewed when they near expiry, so a long collection of one
    account does not outlive them. It keeps the account's adaptive rate limiters.
    """

    def __init__(
        self, caller: Any, role_arn: str, clients: ClientFactory, counter: ApiCallCounter | None
    ) -> None:
        self._caller = caller
        self._role_arn = role_arn
        self._clients = clients
        self._counter = counter
        self._credentials: dict[str, Any] | None = None
        self._sts: Any = None
        self._lock = threading.Lock()
        self.rate_limiters: dict[tuple[str, str], Any] = {}

    @property
    def role_arn(self) -> str:
        return self._role_arn

    @property
    def root_session(self) -> Any:
        """The boto3 Session whose clients this session's calls go through."""
        return self._caller

    @property
    def region_name(self) -> str | None:
        return self._caller.region_name

    def get_available_regions(self, service: str, *args: Any, **kwargs: Any) -> list[str]:
        return self._caller.get_available_regions(service, *args, **kwargs)

    def renew(self) -> None:
        """AssumeRole now, with the caller's credentials; ClientError and BotoCoreError propagate."""
        if self._sts is None:
            self._sts = self._clients.client(
                self._caller, "sts", session_region(self._caller), self._counter
            )
        credentials = self._sts.assume_role(
            RoleArn=self._role_arn, RoleSessionName=ROLE_SESSION_NAME
        )["Credentials"]
        with self._lock:
            self._credentials = credentials

    def current_credentials(self) -> Any:
        """The credentials to sign the next request with, renewed first when they near expiry."""
        with self._lock:
            credentials = self._credentials
        if credentials is None or _expiring(credentials.get("Expiration")):
            self.renew()
        return self.get_credentials()

    def get_credentials(self) -> Any:
        """The current credentials, in botocore's form (also for masking them in error messages)."""
        from botocore.credentials import Credentials

        with self._lock:
            credentials = self._credentials
        if credentials is None:
            return None
        return Credentials(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )

    def __repr__(self) -> str:
        return f"AssumedRoleSession(role_arn={self._role_arn!r})"


def _expiring(expiration: Any) -> bool:
    if not isinstance(expiration, dt.datetime):
        return False
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=dt.UTC)
    return expiration - dt.datetime.now(dt.UTC) < RENEW_BEFORE


def caller_target(
    session: boto3.Session, clients: ClientFactory, counter: ApiCallCounter | None = None
) -> AccountTarget:
    """The account the session's own credentials belong to (STS GetCallerIdentity)."""
    sts = clients.client(session, "sts", session_region(session), counter)
    try:
        identity = sts.get_caller_identity()
    except NoCredentialsError:
        raise CollectError(
            "no AWS credentials found: set AWS_PROFILE or pass --profile, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CollectError(
            f"cannot identify the AWS account (sts:GetCallerIdentity): "
            f"{error.get('Code', 'error')}: {error.get('Message', exc)}"
        ) from None
    except MalformedResponseError as exc:
        raise _not_aws(sts, str(exc)) from None
    except BotoCoreError as exc:
        raise CollectError(f"cannot identify the AWS account: {exc}") from None
    if not _ACCOUNT_ID.fullmatch(str(identity.get("Account"))):
        raise _not_aws(sts, "GetCallerIdentity answered without an account id")
    arn = parse_arn(identity.get("Arn"))
    return AccountTarget(
        account_id=identity["Account"],
        session=session,
        source="caller",
        partition=arn.partition if arn else "aws",
    )


def _not_aws(sts: Any, problem: str) -> CollectError:
    # The very first call: an answer that is not AWS's means a wrong endpoint.
    return CollectError(
        f"cannot identify the AWS account: {problem}; "
        f"is {sts.meta.endpoint_url} an AWS-compatible endpoint?"
    )


def role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def check_role_name(role_name: str) -> str:
    if not _ROLE_NAME.fullmatch(role_name or ""):
        raise CollectError(
            f"--role-name {role_name!r} is not an IAM role name "
            "(letters, digits and +=,.@_-, optionally behind a path/)"
        )
    return role_name


def check_account_ids(account_ids: Iterable[str]) -> list[str]:
    """The ids in order, each once; anything but 12 digits raises CollectError."""
    ids = [account_id.strip() for account_id in account_ids]
    for account_id in ids:
        if not _ACCOUNT_ID.fullmatch(account_id):
            raise CollectError(f"--account {account_id!r} is not an AWS account id (12 digits)")
    return list(dict.fromkeys(ids))


def account_targets(
    caller: AccountTarget, account_ids: Sequence[str], role_name: str = DEFAULT_ROLE_NAME
) -> list[Target]:
    """The named accounts: the caller's own with its own credentials, the others through the role."""
    check_role_name(role_name)
    return [
        caller if account_id == caller.account_id else RoleTarget(
            account_id, role_arn(account_id, role_name, caller.partition), caller.session,
            partition=caller.partition,
        )
        for account_id in check_account_ids(account_ids)
    ]


@dataclass(frozen=True)
class OrganizationPlan:
    """What `organization_targets` found: the targets, and the accounts left out and why.

    With a shard, `targets` are the shard's own accounts and the management account
    (collected by every shard, so that each knows the organisation trails it owns).
    """

    organization: Organization
    targets: list[Target]
    inactive: list[tuple[str, str]]  # (account id, state) of accounts not ACTIVE
    shard: Shard | None = None


def organization_targets(
    caller: AccountTarget,
    clients: ClientFactory,
    counter: ApiCallCounter | None = None,
    role_name: str = DEFAULT_ROLE_NAME,
    only: Sequence[str] = (),
    shard: Shard | None = None,
) -> OrganizationPlan:
    """Every ACTIVE account of the caller's organisation (or those of `only`).

    The caller must be the management account or a delegated administrator. Its
    own account is collected with its own credentials, the others through
    `role_name`; every target carries the organisation id and management account.
    With `shard`, only the accounts of that shard, and the management account.
    """
    check_role_name(role_name)
    wanted = check_account_ids(only)
    organization = list_organization(caller.session, clients, counter)
    listed = {account.account_id: account for account in organization.accounts}
    strangers = [account_id for account_id in wanted if account_id not in listed]
    if strangers:
        raise CollectError(
            f"--account {strangers[0]} is not in organisation {organization.id}"
        )
    accounts = [listed[account_id] for account_id in wanted] if wanted else list(organization.accounts)
    membership = organization.membership
    targets: list[Target] = []
    inactive = []
    for account in accounts:
        if shard and not shard.owns(account.account_id) and (
            account.account_id != organization.management_account_id
        ):
            continue
        if not account.active:
            inactive.append((account.account_id, account.state))
        elif account.account_id == caller.account_id:
            targets.append(AccountTarget(
                caller.account_id, caller.session, "caller", membership, caller.partition
            ))
        else:
            targets.append(RoleTarget(
                account.account_id, role_arn(account.account_id, role_name, caller.partition),
                caller.session, "organization", membership, caller.partition,
            ))
    return OrganizationPlan(organization, targets, inactive, shard)


def record_shard(con: Any, plan: OrganizationPlan) -> None:
    """Write the plan's shard and the organisation's accounts into the database."""
    # Imported here: a collecting worker process makes targets and writes nothing.
    from cfgmon.store.scope import InventoryWriter

    organization = plan.organization
    InventoryWriter(con).record_shard(
        plan.shard, organization.id, organization.management_account_id,
        [(a.account_id, a.name, a.state) for a in organization.accounts], utc_now(),
    )
