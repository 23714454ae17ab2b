"""Seeding a moto server with the inventory cfgmon collects.

The demo and the tests build accounts with `Seeder`, one per account: it holds the moto endpoint and
the credentials moto attributes to the account, and offers one method per resource
plus `chain()`, which builds the whole monitored chain CIS 4.9 asks for:

    trail (multi-region, logging, to CloudWatch Logs) -> log group -> metric filter
    -> metric alarm (ALARM action) -> SNS topic -> confirmed subscription

Every link can be varied or broken through `chain()`'s keyword arguments, and each
method can be called on its own for anything more unusual. Example:

    seeder = Seeder(aws)                                  # moto's default account
    chain = seeder.chain("eu-west-1")                     # compliant-looking chain
    other = Seeder(aws, account_id="222222222222")        # a second account
    other.chain("us-east-1", pattern='{ $.eventName = "PutDeliveryChannel" }',
                logging=False)

moto facts the seeder relies on (moto 5.2.5): CreateTrail needs the S3 bucket to
exist in the same account (`bucket()` makes one per account); trails start logging
only after StartLogging; subscriptions are always confirmed (moto never returns
'PendingConfirmation'); PutCompositeAlarm is not implemented; PutMetricFilter
appends rather than replaces, so call it once per filter name; DescribeTrails always
reports HasCustomEventSelectors false.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The CIS AWS Foundations Benchmark reference pattern for AWS Config changes.
CIS_CONFIG_PATTERN = (
    "{ ($.eventSource = config.amazonaws.com) && "
    "(($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || "
    "($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }"
)
DEFAULT_ACCOUNT = "123456789012"  # moto's account for unknown access keys
METRIC_NAMESPACE = "CISBenchmark"
ALL_MANAGEMENT_EVENTS = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


@dataclass
class Chain:
    """ARNs and names of one seeded chain, for assertions and further tweaking."""

    region: str
    account_id: str
    trail_name: str
    trail_arn: str
    log_group_name: str
    log_group_arn: str
    filter_name: str
    metric_name: str
    namespace: str
    alarm_name: str
    alarm_arn: str
    topic_arn: str
    subscription_arns: list[str] = field(default_factory=list)


class Seeder:
    """Creates resources in one moto account.

    `aws` is a `MotoEndpoint` (anything with `.client(service, region, **creds)` and
    `.account_credentials(account_id)`). For an account other than moto's default,
    credentials come from STS AssumeRole, which moto attributes to that account.
    """

    def __init__(self, aws: Any, account_id: str = DEFAULT_ACCOUNT) -> None:
        self.aws = aws
        self.account_id = account_id
        self.credentials = (
            {} if account_id == DEFAULT_ACCOUNT else aws.account_credentials(account_id)
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._bucket: str | None = None

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.aws.client(service, region, **self.credentials)
        return self._clients[key]

    # -- CloudTrail -------------------------------------------------------------------

    def bucket(self) -> str:
        """The account's trail bucket, created on first use."""
        if self._bucket is None:
            self._bucket = f"cfgmon-trail-{self.account_id}"
            self.client("s3", "us-east-1").create_bucket(Bucket=self._bucket)
        return self._bucket

    def trail(
        self,
        region: str,
        name: str,
        *,
        multi_region: bool = True,
        logging: bool = True,
        log_group_arn: str | None = None,
        event_selectors: Sequence[Mapping] | None = None,
        advanced_event_selectors: Sequence[Mapping] | None = None,
        organization: bool = False,
        include_global_service_events: bool = True,
    ) -> str:
        """Create a trail homed in `region`; returns its ARN.

        `log_group_arn` is the CloudWatch Logs delivery target (use the ':*' form AWS
        shows, e.g. from `log_group()`); `logging=False` leaves the trail stopped
        (StartLogging then StopLogging, so the status has a stop time).
        Selectors are put with PutEventSelectors when given.
        """
        cloudtrail = self.client("cloudtrail", region)
        params: dict[str, Any] = {
            "Name": name,
            "S3BucketName": self.bucket(),
            "IsMultiRegionTrail": multi_region,
            "IncludeGlobalServiceEvents": include_global_service_events,
            "IsOrganizationTrail": organization,
        }
        if log_group_arn:
            params["CloudWatchLogsLogGroupArn"] = log_group_arn
            params["CloudWatchLogsRoleArn"] = (
                f"arn:aws:iam::{self.account_id}:role/CloudTrail_CloudWatchLogs_Role"
            )
        arn = cloudtrail.create_trail(**params)["TrailARN"]
        cloudtrail.start_logging(Name=name)
        if not logging:
            cloudtrail.stop_logging(Name=name)
        if event_selectors is not None:
            cloudtrail.put_event_selectors(TrailName=name, EventSelectors=list(event_selectors))
        if advanced_event_selectors is not None:
            cloudtrail.put_event_selectors(
                TrailName=name, AdvancedEventSelectors=list(advanced_event_selectors)
            )
        return arn

    # -- CloudWatch Logs --------------------------------------------------------------

    def log_group(self, region: str, name: str, *, retention_days: int | None = None) -> str:
        """Create a log group; returns its ARN in the ':*' form trails refer to."""
        logs = self.client("logs", region)
        logs.create_log_group(logGroupName=name)
        if retention_days:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        return f"arn:aws:logs:{region}:{self.account_id}:log-group:{name}:*"

    def metric_filter(
        self,
        region: str,
        log_group: str,
        name: str,
        *,
        pattern: str = CIS_CONFIG_PATTERN,
        metric_name: str = "AWSConfigChanges",
        namespace: str = METRIC_NAMESPACE,
        value: str = "1",
        default_value: float | None = None,
        dimensions: Mapping[str, str] | None = None,
        unit: str | None = None,
    ) -> None:
        """Put a metric filter with one metric transformation; the pattern is sent as is."""
        transformation: dict[str, Any] = {
            "metricName": metric_name,
            "metricNamespace": namespace,
            "metricValue": value,
        }
        if default_value is not None:
            transformation["defaultValue"] = default_value
        if dimensions:
            transformation["dimensions"] = dict(dimensions)
        if unit:
            transformation["unit"] = unit
        self.client("logs", region).put_metric_filter(
            logGroupName=log_group,
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[transformation],
        )

    # -- CloudWatch alarms ------------------------------------------------------------

    def alarm(
        self,
        region: str,
        name: str,
        *,
        metric_name: str = "AWSConfigChanges",
        namespace: str = METRIC_NAMESPACE,
        alarm_actions: Sequence[str] = (),
        ok_actions: Sequence[str] = (),
        insufficient_data_actions: Sequence[str] = (),
        actions_enabled: bool = True,
        threshold: float = 1,
        comparison_operator: str = "GreaterThanOrEqualToThreshold",
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        statistic: str = "Sum",
        period: int = 300,
        dimensions: Mapping[str, str] | None = None,
        treat_missing_data: str | None = "notBreaching",
    ) -> str:
        """Create a metric alarm on one metric; returns its ARN."""
        params: dict[str, Any] = {
            "AlarmName": name,
            "MetricName": metric_name,
            "Namespace": namespace,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": evaluation_periods,
            "Threshold": threshold,
            "ComparisonOperator": comparison_operator,
            "ActionsEnabled": actions_enabled,
            "AlarmActions": list(alarm_actions),
            "OKActions": list(ok_actions),
            "InsufficientDataActions": list(insufficient_data_actions),
            "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
        }
        if datapoints_to_alarm is not None:
            params["DatapointsToAlarm"] = datapoints_to_alarm
        if treat_missing_data:
            params["TreatMissingData"] = treat_missing_data
        self.client("cloudwatch", region).put_metric_alarm(**params)
        return self.alarm_arn(region, name)

    def math_alarm(
        self,
        region: str,
        name: str,
        metrics: Sequence[Mapping],
        *,
        alarm_actions: Sequence[str] = (),
        actions_enabled: bool = True,
        threshold: float = 1,
        comparison_operator: str = "GreaterThanOrEqualToThreshold",
        evaluation_periods: int = 1,
    ) -> str:
        """Create a metric-math alarm from MetricDataQuery entries; returns its ARN.

        `stat_query()` and `expression_query()` build the entries.
        """
        self.client("cloudwatch", region).put_metric_alarm(
            AlarmName=name,
            Metrics=list(metrics),
            EvaluationPeriods=evaluation_periods,
            Threshold=threshold,
            ComparisonOperator=comparison_operator,
            ActionsEnabled=actions_enabled,
            AlarmActions=list(alarm_actions),
        )
        return self.alarm_arn(region, name)

    def alarm_arn(self, region: str, name: str) -> str:
        return f"arn:aws:cloudwatch:{region}:{self.account_id}:alarm:{name}"

    # -- SNS --------------------------------------------------------------------------

    def topic(self, region: str, name: str, *, attributes: Mapping[str, str] | None = None) -> str:
        """Create a topic; `attributes` as CreateTopic takes them (KmsMasterKeyId, Policy)."""
        return self.client("sns", region).create_topic(
            Name=name, Attributes=dict(attributes or {}))["TopicArn"]

    def subscription(
        self, topic_arn: str, *, protocol: str = "email", endpoint: str = "security@example.com",
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Subscribe; `attributes` as Subscribe takes them (FilterPolicy, FilterPolicyScope)."""
        region = topic_arn.split(":")[3]
        return self.client("sns", region).subscribe(
            TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
            Attributes=dict(attributes or {}),
        )["SubscriptionArn"]

    # -- KMS --------------------------------------------------------------------------

    def kms_key(
        self, region: str, *, policy: Mapping | None = None, alias: str | None = None
    ) -> str:
        """Create a customer managed key (with `policy`, else KMS's default) and, when
        given, an alias (`alias/...`) for it; returns the key ARN."""
        kms = self.client("kms", region)
        params: dict[str, Any] = {"Policy": json.dumps(policy)} if policy is not None else {}
        arn = kms.create_key(**params)["KeyMetadata"]["Arn"]
        if alias:
            kms.create_alias(AliasName=alias, TargetKeyId=arn)
        return arn

    # -- the whole chain --------------------------------------------------------------

    def chain(
        self,
        region: str,
        *,
        prefix: str = "cis",
        trail_region: str | None = None,
        multi_region: bool = True,
        logging: bool = True,
        event_selectors: Sequence[Mapping] | None = None,
        advanced_event_selectors: Sequence[Mapping] | None = None,
        with_trail: bool = True,
        pattern: str = CIS_CONFIG_PATTERN,
        metric_name: str | None = None,
        namespace: str = METRIC_NAMESPACE,
        metric_value: str = "1",
        alarm_namespace: str | None = None,
        actions_enabled: bool = True,
        threshold: float = 1,
        comparison_operator: str = "GreaterThanOrEqualToThreshold",
        evaluation_periods: int = 1,
        subscriptions: Sequence[tuple[str, str]] = (("email", "security@example.com"),),
        organization_trail: bool = False,
    ) -> Chain:
        """Build trail -> log group -> metric filter -> alarm -> topic -> subscription.

        The log group, filter, alarm and topic live in `region`; the trail is homed
        in `trail_region` (default `region`) and delivers to the log group.
        `subscriptions` lists (protocol, endpoint) pairs; pass () for a topic with
        none. `with_trail=False` builds everything but the trail. Names are derived
        from `prefix`, so one account can hold several chains.
        """
        log_group_name = f"{prefix}-cloudtrail-logs"
        log_group_arn = self.log_group(region, log_group_name)
        trail_name = f"{prefix}-trail"
        trail_arn = ""
        if with_trail:
            trail_arn = self.trail(
                trail_region or region,
                trail_name,
                multi_region=multi_region,
                logging=logging,
                log_group_arn=log_group_arn,
                event_selectors=event_selectors,
                advanced_event_selectors=advanced_event_selectors,
                organization=organization_trail,
            )
        metric = metric_name or f"{prefix}-config-changes"
        filter_name = f"{prefix}-config-changes"
        self.metric_filter(
            region, log_group_name, filter_name,
            pattern=pattern, metric_name=metric, namespace=namespace, value=metric_value,
        )
        topic_arn = self.topic(region, f"{prefix}-alerts")
        subscription_arns = [
            self.subscription(topic_arn, protocol=protocol, endpoint=endpoint)
            for protocol, endpoint in subscriptions
        ]
        alarm_name = f"{prefix}-config-changes"
        alarm_arn = self.alarm(
            region,
            alarm_name,
            metric_name=metric,
            namespace=alarm_namespace or namespace,
            alarm_actions=[topic_arn],
            actions_enabled=actions_enabled,
            threshold=threshold,
            comparison_operator=comparison_operator,
            evaluation_periods=evaluation_periods,
        )
        return Chain(
            region=region,
            account_id=self.account_id,
            trail_name=trail_name,
            trail_arn=trail_arn,
            log_group_name=log_group_name,
            log_group_arn=log_group_arn,
            filter_name=filter_name,
            metric_name=metric,
            namespace=namespace,
            alarm_name=alarm_name,
            alarm_arn=alarm_arn,
            topic_arn=topic_arn,
            subscription_arns=subscription_arns,
        )


def stat_query(
    query_id: str,
    metric_name: str,
    namespace: str = METRIC_NAMESPACE,
    *,
    stat: str = "Sum",
    period: int = 300,
    dimensions: Mapping[str, str] | None = None,
    return_data: bool = False,
) -> dict:
    """A MetricDataQuery entry reading one metric (for `Seeder.math_alarm`)."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": return_data,
    }


def expression_query(query_id: str, expression: str, *, label: str | None = None) -> dict:
    """A MetricDataQuery entry computing `expression`, returning data (for `Seeder.math_alarm`)."""
    entry = {"Id": query_id, "Expression": expression, "ReturnData": True}
    if label:
        entry["Label"] = label
    return entry
