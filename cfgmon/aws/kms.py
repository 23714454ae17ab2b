"""KMS: the keys SNS topics are encrypted with, asked of the topic's region.

A topic names its key as SNS was given it: a key id, a key ARN, an alias name or an
alias ARN. Keys are identified once per scope, however many topics name them and
however they name them:
- aliases are resolved with one ListAliases for the region, asked only when some
  topic names an alias; an alias ListAliases does not resolve (refused, or an alias
  of another account) is asked of DescribeKey, which accepts aliases;
- every distinct key gets one DescribeKey (whose KeyManager tells AWS managed keys
  such as aws/sns from customer managed ones) and, when customer managed, one
  GetKeyPolicy (policy name default).
`alias/aws/sns` needs no call: it is SNS's AWS managed key by name, and AWS creates
it only when first used.

A refused call leaves what it would have told unknown and says why (see
cfgmon.aws.resource_errors), so the delivery judgement can say it cannot tell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cfgmon.aws.resource_errors import tolerated
from cfgmon.aws.scope import Row, ScopeContext, paginate
from cfgmon.aws.values import is_sns_managed_alias, parse_arn

SERVICE = "kms"
KEY_POLICY_NAME = "default"


@dataclass
class KeyReference:
    """What a topic's KmsMasterKeyId resolved to: a key ARN, or why it could not be."""

    key_arn: str | None
    error: str | None = None


@dataclass
class TopicKeys:
    """The scope's topic keys: each reference's resolution, and one row per key."""

    references: dict[str, KeyReference] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


def fetch_topic_keys(ctx: ScopeContext, references: Iterable[str], partition: str = "aws") -> TopicKeys:
    """Identify the keys `references` name and fetch each one's description and policy."""
    wanted = sorted({ref for ref in references if ref and not is_sns_managed_alias(ref)})
    keys = TopicKeys()
    if not wanted:
        return keys
    client = ctx.client(SERVICE)
    aliases, alias_error = _aliases(client, wanted)
    described: dict[str, tuple[dict | None, str | None]] = {}  # key ARN -> (KeyMetadata, error)
    for reference in wanted:
        key_arn = _key_arn(reference, aliases, f"arn:{partition}:kms:{ctx.region}:{ctx.account_id}")
        if key_arn is None:
            # an alias ListAliases did not resolve: DescribeKey accepts the alias itself
            metadata, error = _describe(client, reference)
            if metadata is None:
                keys.references[reference] = KeyReference(
                    None, "; ".join(e for e in (alias_error, error) if e))
                continue
            key_arn = metadata["Arn"]
            described.setdefault(key_arn, (metadata, None))
        elif key_arn not in described:
            described[key_arn] = _describe(client, key_arn)
        keys.references[reference] = KeyReference(key_arn)
    names_by_key: dict[str, list[str]] = {}
    for name, target in aliases.items():
        if name.startswith("alias/"):
            names_by_key.setdefault(target, []).append(name)
    for key_arn, (metadata, error) in described.items():
        keys.rows.append(_key_row(client, key_arn, metadata, error,
                                  sorted(names_by_key.get(key_arn, []))))
    return keys


def _aliases(client: Any, references: list[str]) -> tuple[dict[str, str], str | None]:
    """alias name and alias ARN -> key ARN, from one ListAliases; only when some reference is an alias."""
    if not any(_alias_name(ref) for ref in references):
        return {}, None
    try:
        listed = list(paginate(client, "list_aliases", "Aliases"))
    except ClientError as exc:
        return {}, tolerated(exc)
    resolved = {}
    for alias in listed:
        target = alias.get("TargetKeyId")
        arn = alias.get("AliasArn")
        if not target or not arn:
            continue
        key_arn = arn.split(":alias/", 1)[0] + ":key/" + target
        resolved[alias["AliasName"]] = key_arn
        resolved[arn] = key_arn
    return resolved, None


def _alias_name(reference: str) -> str | None:
    if reference.startswith("alias/"):
        return reference
    arn = parse_arn(reference)
    if arn and arn.resource.startswith("alias/"):
        return arn.resource
    return None


def _key_arn(reference: str, aliases: dict[str, str], arn_prefix: str) -> str | None:
    """The key ARN a reference names, when known without DescribeKey; `arn_prefix` is
    arn:<partition>:kms:<region>:<account> of the scope, which a bare key id belongs to."""
    if _alias_name(reference):
        return aliases.get(reference)
    if parse_arn(reference) is not None:
        return reference
    return f"{arn_prefix}:key/{reference}"


def _describe(client: Any, key: str) -> tuple[dict | None, str | None]:
    try:
        return client.describe_key(KeyId=key)["KeyMetadata"], None
    except ClientError as exc:
        return None, tolerated(exc)


def _key_row(client: Any, key_arn: str, metadata: dict | None, describe_error: str | None,
             alias_names: list[str]) -> Row:
    metadata = metadata or {}
    policy = policy_error = None
    if describe_error is None and metadata.get("KeyManager") == "CUSTOMER":
        try:
            policy = json.loads(client.get_key_policy(
                KeyId=key_arn, PolicyName=KEY_POLICY_NAME)["Policy"])
        except ClientError as exc:
            policy_error = tolerated(exc)
        except (KeyError, TypeError, ValueError) as exc:
            policy_error = f"GetKeyPolicy: the policy is not JSON ({exc})"
    return {
        "key_arn": key_arn,
        "key_id": metadata.get("KeyId") or key_arn.rsplit("/", 1)[-1],
        "key_manager": metadata.get("KeyManager"),
        "key_state": metadata.get("KeyState"),
        "enabled": metadata.get("Enabled"),
        "key_spec": metadata.get("KeySpec"),
        "aliases": alias_names,
        "policy": policy,
        "describe_error": describe_error,
        "policy_error": policy_error,
        "raw": metadata or None,
    }
