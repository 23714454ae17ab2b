"""The accounts a collection covers: each one an account id and a session that reaches it."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from cfgmon.aws.errors import CollectError
from cfgmon.aws.session import ApiCallCounter, ClientFactory, session_region


@dataclass(frozen=True)
class AccountTarget:
    """One account to collect and the boto3 session whose credentials act in it.

    `source` says how the session was obtained: caller (the credentials cfgmon runs
    with), assumed-role or organization.
    """

    account_id: str
    session: boto3.Session
    source: str = "caller"

    def __repr__(self) -> str:  # never show the session: it holds credentials
        return f"AccountTarget(account_id={self.account_id!r}, source={self.source!r})"


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
    except BotoCoreError as exc:
        raise CollectError(f"cannot identify the AWS account: {exc}") from None
    return AccountTarget(account_id=identity["Account"], session=session, source="caller")
