"""Talking to AWS: sessions, regions, one module per service, the fan-out collector.

The collector knows nothing about controls; it copies inventory into the store.
"""

from cfgmon.aws.collector import (
    DEFAULT_CONCURRENCY,
    SERVICES,
    AccountFailure,
    CollectionReport,
    CollectProgress,
    ScopeOutcome,
    collect,
)
from cfgmon.aws.errors import CollectError
from cfgmon.aws.organizations import Membership, Organization, list_organization
from cfgmon.aws.regions import RegionPlan, plan_regions
from cfgmon.aws.session import ApiCallCounter, ClientFactory, SessionRecipe, build_session
from cfgmon.aws.targets import (
    DEFAULT_ROLE_NAME,
    AccountTarget,
    OrganizationPlan,
    RoleTarget,
    Target,
    account_targets,
    caller_target,
    organization_targets,
    record_shard,
)
from cfgmon.aws.workers import default_processes

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_ROLE_NAME",
    "SERVICES",
    "AccountFailure",
    "AccountTarget",
    "ApiCallCounter",
    "ClientFactory",
    "CollectError",
    "CollectProgress",
    "CollectionReport",
    "Membership",
    "Organization",
    "OrganizationPlan",
    "RegionPlan",
    "RoleTarget",
    "ScopeOutcome",
    "SessionRecipe",
    "Target",
    "account_targets",
    "build_session",
    "caller_target",
    "collect",
    "default_processes",
    "list_organization",
    "organization_targets",
    "plan_regions",
    "record_shard",
]
