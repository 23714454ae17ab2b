"""Talking to AWS: sessions, regions, one module per service, the fan-out collector.

The collector knows nothing about controls; it copies inventory into the store.
"""

from cfgmon.aws.collector import (
    DEFAULT_CONCURRENCY,
    SERVICES,
    CollectionReport,
    CollectProgress,
    ScopeOutcome,
    collect,
)
from cfgmon.aws.errors import CollectError
from cfgmon.aws.regions import RegionPlan, plan_regions
from cfgmon.aws.session import ApiCallCounter, ClientFactory, build_session
from cfgmon.aws.targets import AccountTarget, caller_target

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SERVICES",
    "AccountTarget",
    "ApiCallCounter",
    "ClientFactory",
    "CollectError",
    "CollectProgress",
    "CollectionReport",
    "RegionPlan",
    "ScopeOutcome",
    "build_session",
    "caller_target",
    "collect",
    "plan_regions",
]
