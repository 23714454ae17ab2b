-- The one definition of every table cfgmon keeps.
--
-- Inventory tables follow the names of Steampipe's AWS plugin; columns are the
-- snake_case of the API fields. Every inventory row carries the account it was
-- collected from (account_id), the region it belongs to (region), when it was
-- collected (collected_at, UTC) and, on resource tables, the raw API object (raw).
-- Lists inside a resource have normalised child tables so that the control needs
-- no engine-specific JSON functions.
--
-- Timestamps are TIMESTAMP in UTC. Changing a table means bumping SCHEMA_VERSION in
-- cfgmon/store/database.py and adding a migration there.

-- CloudTrail ------------------------------------------------------------------

-- One row per trail ARN visible to the account, stored in its home region
-- (region = home_region). Status comes from GetTrailStatus and selectors from
-- GetEventSelectors, both asked of the home region.
CREATE TABLE IF NOT EXISTS aws_cloudtrail_trail (
    account_id                             VARCHAR NOT NULL,
    region                                 VARCHAR NOT NULL,
    collected_at                           TIMESTAMP NOT NULL,
    arn                                    VARCHAR NOT NULL,
    name                                   VARCHAR NOT NULL,
    owner_account_id                       VARCHAR,   -- account in the trail ARN (differs for organisation trails)
    home_region                            VARCHAR NOT NULL,
    is_multi_region_trail                  BOOLEAN,
    is_organization_trail                  BOOLEAN,
    include_global_service_events          BOOLEAN,
    log_file_validation_enabled            BOOLEAN,
    s3_bucket_name                         VARCHAR,
    s3_key_prefix                          VARCHAR,
    sns_topic_arn                          VARCHAR,
    cloud_watch_logs_log_group_arn         VARCHAR,   -- as AWS returned it, usually ending in ':*'
    cloud_watch_logs_role_arn              VARCHAR,
    -- cloud_watch_logs_log_group_arn taken apart, so joins use the full identity
    log_group_account_id                   VARCHAR,
    log_group_region                       VARCHAR,
    log_group_name                         VARCHAR,
    kms_key_id                             VARCHAR,
    has_custom_event_selectors             BOOLEAN,
    has_insight_selectors                  BOOLEAN,
    -- GetTrailStatus
    is_logging                             BOOLEAN,
    latest_delivery_time                   TIMESTAMP,
    latest_delivery_error                  VARCHAR,
    latest_cloud_watch_logs_delivery_time  TIMESTAMP,
    latest_cloud_watch_logs_delivery_error VARCHAR,
    start_logging_time                     TIMESTAMP,
    stop_logging_time                      TIMESTAMP,
    -- whether GetEventSelectors succeeded; NULL selectors are unknown, not absent
    event_selectors_collected              BOOLEAN,
    -- why GetTrailStatus or GetEventSelectors gave nothing for this trail (for
    -- example an organisation trail seen from a member account); NULL when both worked
    detail_error                           VARCHAR,
    status                                 JSON,
    event_selectors                        JSON,
    advanced_event_selectors               JSON,
    raw                                    JSON,
    PRIMARY KEY (account_id, arn)
);

-- GetEventSelectors' basic EventSelectors, one row per selector.
CREATE TABLE IF NOT EXISTS aws_cloudtrail_trail_event_selector (
    account_id                       VARCHAR NOT NULL,
    region                           VARCHAR NOT NULL,
    collected_at                     TIMESTAMP NOT NULL,
    trail_arn                        VARCHAR NOT NULL,
    selector_index                   INTEGER NOT NULL,
    read_write_type                  VARCHAR,    -- ReadOnly | WriteOnly | All
    include_management_events        BOOLEAN,
    exclude_management_event_sources JSON,       -- list of event sources
    data_resources                   JSON,
    PRIMARY KEY (account_id, trail_arn, selector_index)
);

-- GetEventSelectors' AdvancedEventSelectors, one row per selector.
CREATE TABLE IF NOT EXISTS aws_cloudtrail_trail_advanced_event_selector (
    account_id     VARCHAR NOT NULL,
    region         VARCHAR NOT NULL,
    collected_at   TIMESTAMP NOT NULL,
    trail_arn      VARCHAR NOT NULL,
    selector_index INTEGER NOT NULL,
    name           VARCHAR,
    PRIMARY KEY (account_id, trail_arn, selector_index)
);

-- One row per (field selector, operator, value) of an advanced event selector.
-- operator is the API's key: Equals, StartsWith, EndsWith, NotEquals,
-- NotStartsWith, NotEndsWith.
CREATE TABLE IF NOT EXISTS aws_cloudtrail_trail_advanced_field_selector (
    account_id     VARCHAR NOT NULL,
    region         VARCHAR NOT NULL,
    collected_at   TIMESTAMP NOT NULL,
    trail_arn      VARCHAR NOT NULL,
    selector_index INTEGER NOT NULL,
    field          VARCHAR NOT NULL,
    operator       VARCHAR NOT NULL,
    value          VARCHAR NOT NULL
);

-- CloudWatch Logs --------------------------------------------------------------

CREATE TABLE IF NOT EXISTS aws_cloudwatch_log_group (
    account_id          VARCHAR NOT NULL,
    region              VARCHAR NOT NULL,
    collected_at        TIMESTAMP NOT NULL,
    arn                 VARCHAR NOT NULL,   -- logGroupArn: without the trailing ':*'
    name                VARCHAR NOT NULL,
    creation_time       TIMESTAMP,
    retention_in_days   INTEGER,
    stored_bytes        BIGINT,
    metric_filter_count INTEGER,
    kms_key_id          VARCHAR,
    log_group_class     VARCHAR,
    data_protection_status VARCHAR,
    raw                 JSON,
    PRIMARY KEY (account_id, region, name)
);

-- filter_pattern is stored byte for byte as DescribeMetricFilters returned it.
-- Each filter has exactly one metric transformation; its fields are columns.
CREATE TABLE IF NOT EXISTS aws_cloudwatch_log_metric_filter (
    account_id                          VARCHAR NOT NULL,
    region                              VARCHAR NOT NULL,
    collected_at                        TIMESTAMP NOT NULL,
    name                                VARCHAR NOT NULL,
    log_group_name                      VARCHAR NOT NULL,
    filter_pattern                      VARCHAR,
    creation_time                       TIMESTAMP,
    metric_transformation_name          VARCHAR,
    metric_transformation_namespace     VARCHAR,
    metric_transformation_value         VARCHAR,   -- a number or a $.selector, as a string
    metric_transformation_default_value DOUBLE,
    metric_transformation_unit          VARCHAR,
    metric_transformation_dimensions    JSON,      -- {dimension name: $.selector}
    apply_on_transformed_logs           BOOLEAN,
    raw                                 JSON,
    PRIMARY KEY (account_id, region, log_group_name, name)
);

-- metric_transformation_dimensions, one row per dimension.
CREATE TABLE IF NOT EXISTS aws_cloudwatch_log_metric_filter_dimension (
    account_id      VARCHAR NOT NULL,
    region          VARCHAR NOT NULL,
    collected_at    TIMESTAMP NOT NULL,
    log_group_name  VARCHAR NOT NULL,
    filter_name     VARCHAR NOT NULL,
    dimension_name  VARCHAR NOT NULL,
    value_selector  VARCHAR NOT NULL,
    PRIMARY KEY (account_id, region, log_group_name, filter_name, dimension_name)
);

-- CloudWatch alarms --------------------------------------------------------------

-- Metric alarms and composite alarms (alarm_type MetricAlarm | CompositeAlarm).
CREATE TABLE IF NOT EXISTS aws_cloudwatch_alarm (
    account_id                            VARCHAR NOT NULL,
    region                                VARCHAR NOT NULL,
    collected_at                          TIMESTAMP NOT NULL,
    arn                                   VARCHAR NOT NULL,
    name                                  VARCHAR NOT NULL,
    alarm_type                            VARCHAR NOT NULL,
    alarm_description                     VARCHAR,
    actions_enabled                       BOOLEAN,
    state_value                           VARCHAR,
    state_reason                          VARCHAR,
    state_updated_timestamp               TIMESTAMP,
    metric_name                           VARCHAR,
    namespace                             VARCHAR,
    statistic                             VARCHAR,
    extended_statistic                    VARCHAR,
    period                                INTEGER,
    unit                                  VARCHAR,
    evaluation_periods                    INTEGER,
    datapoints_to_alarm                   INTEGER,
    threshold                             DOUBLE,
    comparison_operator                   VARCHAR,
    treat_missing_data                    VARCHAR,
    evaluate_low_sample_count_percentile  VARCHAR,
    threshold_metric_id                   VARCHAR,
    alarm_rule                            VARCHAR,   -- composite alarms only
    dimensions                            JSON,
    raw                                   JSON,
    PRIMARY KEY (account_id, region, arn)
);

-- AlarmActions, OKActions and InsufficientDataActions, one row per action.
CREATE TABLE IF NOT EXISTS aws_cloudwatch_alarm_action (
    account_id   VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    alarm_arn    VARCHAR NOT NULL,
    action_type  VARCHAR NOT NULL,   -- ALARM | OK | INSUFFICIENT_DATA
    action_index INTEGER NOT NULL,
    action_arn   VARCHAR NOT NULL,
    PRIMARY KEY (account_id, region, alarm_arn, action_type, action_index)
);

-- Dimensions of a metric alarm's own metric.
CREATE TABLE IF NOT EXISTS aws_cloudwatch_alarm_dimension (
    account_id   VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    alarm_arn    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    value        VARCHAR,
    PRIMARY KEY (account_id, region, alarm_arn, name)
);

-- Metric-math alarms: one row per MetricDataQuery. MetricStat fields are flattened
-- (metric_name, namespace, stat, period, unit); their dimensions are in
-- aws_cloudwatch_alarm_metric_dimension.
CREATE TABLE IF NOT EXISTS aws_cloudwatch_alarm_metric (
    account_id       VARCHAR NOT NULL,
    region           VARCHAR NOT NULL,
    collected_at     TIMESTAMP NOT NULL,
    alarm_arn        VARCHAR NOT NULL,
    metric_index     INTEGER NOT NULL,
    id               VARCHAR NOT NULL,
    expression       VARCHAR,
    label            VARCHAR,
    return_data      BOOLEAN,   -- NULL means the API default (true)
    metric_name      VARCHAR,
    namespace        VARCHAR,
    stat             VARCHAR,
    period           INTEGER,
    unit             VARCHAR,
    metric_account_id VARCHAR,  -- MetricDataQuery.AccountId (cross-account metrics)
    PRIMARY KEY (account_id, region, alarm_arn, id)
);

CREATE TABLE IF NOT EXISTS aws_cloudwatch_alarm_metric_dimension (
    account_id   VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    alarm_arn    VARCHAR NOT NULL,
    metric_id    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    value        VARCHAR,
    PRIMARY KEY (account_id, region, alarm_arn, metric_id, name)
);

-- SNS --------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS aws_sns_topic (
    account_id   VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    topic_arn    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    raw          JSON,
    PRIMARY KEY (account_id, region, topic_arn)
);

-- endpoint has the query string and user-info of http/https URLs masked.
-- pending_confirmation is true when SubscriptionArn is 'PendingConfirmation'.
CREATE TABLE IF NOT EXISTS aws_sns_topic_subscription (
    account_id           VARCHAR NOT NULL,
    region               VARCHAR NOT NULL,
    collected_at         TIMESTAMP NOT NULL,
    subscription_arn     VARCHAR NOT NULL,
    topic_arn            VARCHAR NOT NULL,
    owner                VARCHAR,
    protocol             VARCHAR,
    endpoint             VARCHAR,
    pending_confirmation BOOLEAN NOT NULL,
    raw                  JSON
);

-- GetTopicAttributes of each topic listed in the scope. kms_key_arn is the key that
-- kms_master_key_id (a key id, key ARN, alias name or alias ARN, as SNS returns it)
-- names, resolved through ListAliases or DescribeKey; NULL when the topic is not
-- encrypted or the key could not be identified (kms_key_error says why).
-- attributes_error and subscriptions_error say why GetTopicAttributes or
-- ListSubscriptionsByTopic was refused for this topic; its columns are then unknown.
CREATE TABLE IF NOT EXISTS aws_sns_topic_attributes (
    account_id                VARCHAR NOT NULL,
    region                    VARCHAR NOT NULL,
    collected_at              TIMESTAMP NOT NULL,
    topic_arn                 VARCHAR NOT NULL,
    owner                     VARCHAR,
    display_name              VARCHAR,
    policy                    JSON,
    kms_master_key_id         VARCHAR,
    kms_key_arn               VARCHAR,
    kms_key_error             VARCHAR,
    delivery_policy           JSON,
    effective_delivery_policy JSON,
    fifo_topic                BOOLEAN,
    signature_version         VARCHAR,
    subscriptions_confirmed   INTEGER,
    subscriptions_pending     INTEGER,
    subscriptions_deleted     INTEGER,
    attributes_error          VARCHAR,
    subscriptions_error       VARCHAR,
    raw                       JSON,
    PRIMARY KEY (account_id, region, topic_arn)
);

-- Every subscription on the scope's topics as ListSubscriptionsByTopic shows it to
-- the topic owner, other accounts' subscriptions included, with GetSubscriptionAttributes
-- for the confirmed ones. filter_policy_scope is as AWS returned it (NULL without a
-- filter policy); attributes_error says why the attributes could not be read.
-- endpoint and raw have the query string and user-info of http/https URLs masked.
CREATE TABLE IF NOT EXISTS aws_sns_topic_subscription_attributes (
    account_id                     VARCHAR NOT NULL,
    region                         VARCHAR NOT NULL,
    collected_at                   TIMESTAMP NOT NULL,
    topic_arn                      VARCHAR NOT NULL,
    subscription_arn               VARCHAR NOT NULL,   -- 'PendingConfirmation' while pending
    owner                          VARCHAR,
    protocol                       VARCHAR,
    endpoint                       VARCHAR,
    pending_confirmation           BOOLEAN NOT NULL,
    filter_policy                  JSON,
    filter_policy_scope            VARCHAR,            -- MessageAttributes | MessageBody
    raw_message_delivery           BOOLEAN,
    confirmation_was_authenticated BOOLEAN,
    attributes_error               VARCHAR,
    raw                            JSON
);

-- The KMS keys the scope's topics are encrypted with: DescribeKey and, for customer
-- managed keys, GetKeyPolicy (policy name default). describe_error and policy_error
-- say why either was refused; the columns they fill are then unknown.
CREATE TABLE IF NOT EXISTS aws_sns_topic_kms_key (
    account_id     VARCHAR NOT NULL,
    region         VARCHAR NOT NULL,
    collected_at   TIMESTAMP NOT NULL,
    key_arn        VARCHAR NOT NULL,
    key_id         VARCHAR,
    key_manager    VARCHAR,   -- AWS | CUSTOMER
    key_state      VARCHAR,   -- Enabled | Disabled | PendingDeletion | ...
    enabled        BOOLEAN,
    key_spec       VARCHAR,
    aliases        JSON,      -- the alias names ListAliases gave for it
    policy         JSON,
    describe_error VARCHAR,
    policy_error   VARCHAR,
    raw            JSON,      -- DescribeKey's KeyMetadata
    PRIMARY KEY (account_id, region, key_arn)
);

-- cfgmon's own tables -------------------------------------------------------------

CREATE TABLE IF NOT EXISTS cfgmon_schema (
    version    INTEGER NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

-- One row per account cfgmon tried to collect (latest attempt).
-- status: ok | error (for example a role that could not be assumed).
CREATE TABLE IF NOT EXISTS cfgmon_account (
    account_id      VARCHAR NOT NULL PRIMARY KEY,
    collected_at    TIMESTAMP NOT NULL,
    source          VARCHAR,   -- caller | assumed-role | organization
    status          VARCHAR NOT NULL,
    error_code      VARCHAR,
    error_message   VARCHAR,
    organization_id VARCHAR,
    management_account_id VARCHAR,
    -- whether DescribeOrganization answered: organization_id NULL with TRUE means the
    -- account is in no organisation, with FALSE or NULL that its organisation is unknown
    organization_known BOOLEAN
);

-- The regions of each account as EC2 DescribeRegions (AllRegions) listed them when the
-- account was last opened for collection, whatever `collect --region` narrowed the
-- collection to: the regions the account can make calls in are those whose
-- opt_in_status is opt-in-not-required or opted-in. An account whose regions could
-- not be listed keeps its earlier rows, or has none.
CREATE TABLE IF NOT EXISTS cfgmon_account_region (
    account_id    VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    opt_in_status VARCHAR NOT NULL,   -- opt-in-not-required | opted-in | not-opted-in
    listed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, region)
);

-- One row per collected scope (account, region, service): the latest attempt.
-- status: ok | error | skipped. last_success_at tells how old the stored rows are
-- when the latest attempt failed and earlier rows were kept.
CREATE TABLE IF NOT EXISTS cfgmon_collection (
    account_id      VARCHAR NOT NULL,
    region          VARCHAR NOT NULL,
    service         VARCHAR NOT NULL,   -- cloudtrail | logs | cloudwatch | sns
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,
    error_code      VARCHAR,
    error_message   VARCHAR,
    error_operation VARCHAR,
    api_calls       INTEGER NOT NULL DEFAULT 0,
    rows_written    INTEGER,
    last_success_at TIMESTAMP,
    PRIMARY KEY (account_id, region, service)
);

-- What each distinct filter pattern does against a control's event catalogue,
-- written by the pattern engine before the control's SQL runs. event_set names the
-- catalogue records judged (the framework version's, e.g. cis-aws@5.0.0; '' for a
-- control version with one fixed catalogue).
CREATE TABLE IF NOT EXISTS cfgmon_pattern_coverage (
    control_id       VARCHAR NOT NULL,
    control_version  VARCHAR NOT NULL,
    event_set        VARCHAR NOT NULL DEFAULT '',
    -- '' when the pattern answers alike for every account; else the judged account
    -- whose own rendering of the catalogue (its id in recipientAccountId, ARNs, ...)
    -- this row evaluates, for a pattern that reads a field holding the account id
    judged_account_id VARCHAR NOT NULL DEFAULT '',
    filter_pattern   VARCHAR NOT NULL,
    pattern_valid    BOOLEAN NOT NULL,
    pattern_error    VARCHAR,
    events_total     INTEGER NOT NULL,
    events_matched   INTEGER NOT NULL,
    covers_catalogue BOOLEAN NOT NULL,   -- matches every catalogue record
    missed_events    VARCHAR,            -- event names of the records missed, comma-separated
    broader_than_reference BOOLEAN,      -- also matches records the reference pattern does not
    -- the first of the catalogue's ordinary (background) records it matches, if any: a
    -- filter that matches ordinary traffic keeps its alarm in ALARM
    background_matched VARCHAR,
    -- one row per (control_id, control_version, event_set, judged_account_id,
    -- filter_pattern), by construction: a key index on the patterns would only slow the
    -- rewrite every check makes
    evaluated_at     TIMESTAMP NOT NULL
);

-- How a metric alarm answers what a metric filter publishes (cfgmon.alarms simulates
-- it): one matching event's value, and the filter's default value for every other
-- log event. metric_id is '' for the alarm's own metric, else the metric-math
-- MetricStat that carries the filter's metric.
CREATE TABLE IF NOT EXISTS cfgmon_alarm_response (
    account_id       VARCHAR NOT NULL,
    region           VARCHAR NOT NULL,
    alarm_arn        VARCHAR NOT NULL,
    metric_id        VARCHAR NOT NULL,
    event_value      DOUBLE,             -- NULL: the event publishes no usable number
    default_value    DOUBLE,             -- NULL: the filter has no default value
    alarms_on_event  BOOLEAN,            -- one event puts it into ALARM
    alarm_when_quiet BOOLEAN,            -- in ALARM without any event
    leaves_alarm     BOOLEAN,            -- back out of ALARM once quiet again
    unsupported      VARCHAR,            -- what cfgmon does not evaluate (then the rest is NULL)
    why              VARCHAR NOT NULL,   -- the statistic, threshold and datapoints, in words
    evaluated_at     TIMESTAMP NOT NULL
);

-- The SNS topics a metric alarm's going into ALARM notifies: its own ALARM actions
-- (via_alarm_arn NULL), and those of each composite alarm that it alone puts into
-- ALARM, actions enabled and not suppressed (via_alarm_arn, the composite).
CREATE TABLE IF NOT EXISTS cfgmon_alarm_route (
    account_id    VARCHAR NOT NULL,
    region        VARCHAR NOT NULL,
    alarm_arn     VARCHAR NOT NULL,
    topic_arn     VARCHAR NOT NULL,
    via_alarm_arn VARCHAR,
    evaluated_at  TIMESTAMP NOT NULL
);

-- Several metric filters on one log group that publish the same metric (namespace,
-- name, unit and dimensions) feed one alarm: what their patterns match together. One
-- row per filter of such a group; judged_account_id as in cfgmon_pattern_coverage.
CREATE TABLE IF NOT EXISTS cfgmon_metric_coverage (
    control_id           VARCHAR NOT NULL,
    control_version      VARCHAR NOT NULL,
    event_set            VARCHAR NOT NULL DEFAULT '',
    judged_account_id    VARCHAR NOT NULL DEFAULT '',
    log_group_account_id VARCHAR NOT NULL,
    region               VARCHAR NOT NULL,
    log_group_name       VARCHAR NOT NULL,
    filter_name          VARCHAR NOT NULL,
    filter_names         VARCHAR NOT NULL,   -- every filter of the group, comma-separated
    filter_count         INTEGER NOT NULL,
    events_total         INTEGER NOT NULL,
    events_matched       INTEGER NOT NULL,   -- by at least one filter of the group
    covers_catalogue     BOOLEAN NOT NULL,
    missed_events        VARCHAR,            -- what the group misses together
    background_matched   VARCHAR,            -- the first ordinary record any of them matches
    evaluated_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (control_id, control_version, event_set, judged_account_id,
                 log_group_account_id, region, log_group_name, filter_name)
);

-- Whether a trail records every record of a control's catalogue, derived from its
-- selectors (basic and advanced), excluded management event sources, global service
-- events and home region before a chain query runs.
CREATE TABLE IF NOT EXISTS cfgmon_trail_capture (
    control_id         VARCHAR NOT NULL,
    control_version    VARCHAR NOT NULL,
    event_set          VARCHAR NOT NULL,
    account_id         VARCHAR NOT NULL,   -- the account whose listing holds the trail row
    trail_arn          VARCHAR NOT NULL,
    captures_catalogue BOOLEAN,            -- NULL when the trail's selectors were not collected
    events_total       INTEGER NOT NULL,
    events_captured    INTEGER,
    missed_events      VARCHAR,            -- the records it does not record, named
    missed_because     VARCHAR,            -- why: home region, global events, selectors
    evaluated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (control_id, control_version, event_set, account_id, trail_arn)
);

-- Whether an SNS topic an alarm's ALARM action names can deliver that alarm's
-- notification, one row per (topic, alarm whose ALARM action names it), for the
-- alarms a chain can reach (metric alarms on the metric of a filter on a trail's log
-- group, and composite alarms), derived in Python before a chain runs (cfgmon.controls.topic_delivery; the rules
-- and their evidence are in cfgmon.controls.delivery_rules). can_deliver is NULL when
-- the answer rests on something that could not be collected or evaluated
-- (undecided_because says what); undeliverable_because names the first broken rule.
CREATE TABLE IF NOT EXISTS cfgmon_topic_delivery (
    topic_arn                      VARCHAR NOT NULL,
    publisher_account_id           VARCHAR NOT NULL,   -- the account of the alarms
    alarm_arn                      VARCHAR NOT NULL,   -- the alarm (metric or composite) judged
    topic_account_id               VARCHAR,
    topic_region                   VARCHAR,
    topic_collected                BOOLEAN NOT NULL,   -- the topic's attributes are in the inventory
    can_deliver                    BOOLEAN,
    undeliverable_because          VARCHAR,
    undecided_because              VARCHAR,
    kms_key_arn                    VARCHAR,
    kms_key_manager                VARCHAR,
    working_subscriptions          INTEGER NOT NULL,
    first_working_subscription_arn VARCHAR,
    pending_subscriptions          INTEGER NOT NULL,
    filtered_out_subscriptions     INTEGER NOT NULL,
    filtered_out_example           VARCHAR,            -- a subscription ARN, and why
    undecided_subscriptions        INTEGER NOT NULL,   -- filter policies that could not be evaluated
    alarms                         INTEGER NOT NULL,   -- the publisher's alarms a chain can reach that notify the topic
    -- one row per (topic_arn, alarm_arn), by construction: a key index would only slow
    -- the rewrite every check makes
    evaluated_at                   TIMESTAMP NOT NULL
);

-- The control a chain query judges, written by cfgmon just before the chain runs: a
-- chain names no control, and reads its facts (and its derived rows) through this row.
CREATE TABLE IF NOT EXISTS cfgmon_chain_control (
    control_id      VARCHAR NOT NULL,
    control_version VARCHAR NOT NULL,
    event_set       VARCHAR NOT NULL,
    event_noun      VARCHAR NOT NULL,   -- "AWS Config change events"
    event_count     INTEGER NOT NULL,   -- how many events the noun counts (event names, else records)
    applies_to      VARCHAR NOT NULL,   -- every_account | management_account
    PRIMARY KEY (control_id, control_version, event_set)
);

-- History of control results: every `cfgmon check` appends its rows.
CREATE TABLE IF NOT EXISTS cfgmon_check_result (
    run_id          VARCHAR NOT NULL,
    evaluated_at    TIMESTAMP NOT NULL,
    control_id      VARCHAR NOT NULL,
    control_version VARCHAR NOT NULL,
    account_id      VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,   -- COMPLIANT | NON_COMPLIANT | INSUFFICIENT_DATA | NOT_APPLICABLE
    reason          VARCHAR NOT NULL,
    resource        VARCHAR,
    evidence        JSON,
    framework       VARCHAR             -- the framework version judged (cis-aws@5.0.0), NULL for the default
);

-- What a metric transformation expression (a metricValue such as '1' or '$.n', or a
-- dimension's value selector such as '$.eventSource') yields over a control's event
-- catalogue, written beside the pattern coverage so the control's SQL stays portable.
CREATE TABLE IF NOT EXISTS cfgmon_catalogue_value (
    control_id      VARCHAR NOT NULL,
    control_version VARCHAR NOT NULL,
    event_set       VARCHAR NOT NULL DEFAULT '',
    expression      VARCHAR NOT NULL,
    constant_value  VARCHAR,   -- the one value every catalogue record yields, else NULL
    min_number      DOUBLE,    -- the smallest number it yields; NULL when a record yields no number
    positive_number BOOLEAN NOT NULL,   -- every record yields a number greater than zero
    evaluated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (control_id, control_version, event_set, expression)
);

-- The value a metric filter's dimension takes on a control's catalogue records, by its
-- value selector (such as '$.eventSource' or '$.recipientAccountId'); NULL when the
-- records disagree, so no single alarm dimension sees them all. A selector whose value
-- holds the account's id is read in each judged account's rendering of the catalogue.
CREATE TABLE IF NOT EXISTS cfgmon_dimension_value (
    control_id        VARCHAR NOT NULL,
    control_version   VARCHAR NOT NULL,
    event_set         VARCHAR NOT NULL DEFAULT '',
    -- '' when the value is the same for every account; else the judged account whose
    -- rendering of the catalogue gives it (one row per account a filter with the
    -- selector may be judged for, and none with '')
    judged_account_id VARCHAR NOT NULL DEFAULT '',
    value_selector    VARCHAR NOT NULL,
    constant_value    VARCHAR,
    evaluated_at      TIMESTAMP NOT NULL
);

-- What a filter pattern that reads the account's id or a region does to a control's
-- catalogue rendered for a judged account (cfgmon.controls.rendering: its id where the
-- records have theirs, each regional record once per region the account uses), one
-- row per judged account; the columns are cfgmon_pattern_coverage's, whose
-- judged_account_id '' rows hold every pattern in the catalogue's own rendering.
-- missed_events ends with the regions a record is missed in when it is matched in
-- others. Read by alarm_chain version 4.
CREATE TABLE IF NOT EXISTS cfgmon_judged_coverage (
    control_id       VARCHAR NOT NULL,
    control_version  VARCHAR NOT NULL,
    event_set        VARCHAR NOT NULL DEFAULT '',
    judged_account_id VARCHAR NOT NULL,
    filter_pattern   VARCHAR NOT NULL,
    pattern_valid    BOOLEAN NOT NULL,
    pattern_error    VARCHAR,
    events_total     INTEGER NOT NULL,
    events_matched   INTEGER NOT NULL,
    covers_catalogue BOOLEAN NOT NULL,
    missed_events    VARCHAR,
    broader_than_reference BOOLEAN,
    background_matched VARCHAR,
    evaluated_at     TIMESTAMP NOT NULL
);

-- A metric value (metricValue such as '$.n') whose catalogue records yield the
-- account's id, read in a judged account's rendering of the catalogue; the columns
-- are cfgmon_catalogue_value's, which holds the catalogue's own. Read by alarm_chain
-- version 4.
CREATE TABLE IF NOT EXISTS cfgmon_judged_value (
    control_id        VARCHAR NOT NULL,
    control_version   VARCHAR NOT NULL,
    event_set         VARCHAR NOT NULL DEFAULT '',
    judged_account_id VARCHAR NOT NULL,
    expression        VARCHAR NOT NULL,
    constant_value    VARCHAR,
    min_number        DOUBLE,
    positive_number   BOOLEAN NOT NULL,
    evaluated_at      TIMESTAMP NOT NULL
);

-- The metric filters of one log group whose events one alarm sees together, and what
-- their patterns match together in a judged account's rendering ('' the catalogue's
-- own): those publishing one metric (namespace, name, unit, dimensions; alarm_arn ''),
-- and those whose metrics one metric-math alarm reads (alarm_arn), a filter counting
-- when its value is a positive number and, for an alarm, when one of its events alone
-- puts the alarm into ALARM. One row per filter of the group. Read by alarm_chain
-- version 4.
CREATE TABLE IF NOT EXISTS cfgmon_group_coverage (
    control_id           VARCHAR NOT NULL,
    control_version      VARCHAR NOT NULL,
    event_set            VARCHAR NOT NULL DEFAULT '',
    judged_account_id    VARCHAR NOT NULL DEFAULT '',
    log_group_account_id VARCHAR NOT NULL,
    region               VARCHAR NOT NULL,
    log_group_name       VARCHAR NOT NULL,
    alarm_arn            VARCHAR NOT NULL,   -- '' for filters publishing one metric
    filter_name          VARCHAR NOT NULL,
    filter_names         VARCHAR,            -- the filters that count, comma-separated
    filter_count         INTEGER NOT NULL,
    events_total         INTEGER NOT NULL,
    events_matched       INTEGER NOT NULL,   -- by at least one filter that counts
    covers_catalogue     BOOLEAN NOT NULL,
    missed_events        VARCHAR,            -- what they miss together
    background_matched   VARCHAR,            -- the first ordinary record one of them matches
    background_filter    VARCHAR,            -- the filter whose pattern matches it
    -- how the alarm answers one event of this filter, the other metrics publishing
    -- their filters' default values (NULL in a metric's group, or when the alarm does
    -- not read this filter's metric)
    alarms_on_event      BOOLEAN,
    alarm_when_quiet     BOOLEAN,
    leaves_alarm         BOOLEAN,
    alarm_unsupported    VARCHAR,
    alarm_why            VARCHAR,
    evaluated_at         TIMESTAMP NOT NULL
);

-- The organisation's accounts as its listing gave them, and the shard of each,
-- recorded by `collect --organization --shard K/N`: every shard knows them all.
CREATE TABLE IF NOT EXISTS cfgmon_organization_account (
    account_id            VARCHAR NOT NULL PRIMARY KEY,
    organization_id       VARCHAR,
    management_account_id VARCHAR,
    name                  VARCHAR,
    state                 VARCHAR,
    shard                 VARCHAR NOT NULL,   -- K/N: the shard that collects the account
    listed_at             TIMESTAMP NOT NULL
);

-- The shard of an organisation this database holds (one row), written by
-- `collect --organization --shard K/N`; `export` writes only the shard's own accounts.
CREATE TABLE IF NOT EXISTS cfgmon_shard (
    shard_index     INTEGER NOT NULL,
    shard_count     INTEGER NOT NULL,
    organization_id VARCHAR,
    recorded_at     TIMESTAMP NOT NULL
);
