"""Talking to AWS: sessions, regions, one module per service, the fan-out collector.

The collector knows nothing about controls; it copies inventory into the store.
"""

from cfgmon.lazy import lazy_names

# Each name is imported from its module on first use: importing a module of this
# package (cfgmon.aws.values, say) does not load botocore, which only a collection needs.
__getattr__, __all__ = lazy_names(__name__, {
    "AccountFailure": "cfgmon.aws.collector",
    "CollectProgress": "cfgmon.aws.collector",
    "CollectionReport": "cfgmon.aws.collector",
    "SERVICES": "cfgmon.aws.collector",
    "ScopeOutcome": "cfgmon.aws.collector",
    "collect": "cfgmon.aws.collector",
    "DEFAULT_CONCURRENCY": "cfgmon.aws.defaults",
    "DEFAULT_ROLE_NAME": "cfgmon.aws.defaults",
    "CollectError": "cfgmon.aws.errors",
    "Membership": "cfgmon.aws.organizations",
    "Organization": "cfgmon.aws.organizations",
    "list_organization": "cfgmon.aws.organizations",
    "RegionPlan": "cfgmon.aws.regions",
    "plan_regions": "cfgmon.aws.regions",
    "ApiCallCounter": "cfgmon.aws.session",
    "ClientFactory": "cfgmon.aws.session",
    "SessionRecipe": "cfgmon.aws.session",
    "build_session": "cfgmon.aws.session",
    "AccountTarget": "cfgmon.aws.targets",
    "OrganizationPlan": "cfgmon.aws.targets",
    "RoleTarget": "cfgmon.aws.targets",
    "Target": "cfgmon.aws.targets",
    "account_targets": "cfgmon.aws.targets",
    "caller_target": "cfgmon.aws.targets",
    "organization_targets": "cfgmon.aws.targets",
    "record_shard": "cfgmon.aws.targets",
    "default_processes": "cfgmon.aws.workers",
})
