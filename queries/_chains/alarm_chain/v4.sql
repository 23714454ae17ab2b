-- alarm_chain, version 4: the CloudTrail -> CloudWatch Logs -> metric filter ->
-- alarm -> SNS chain shared by the CIS monitoring family.
-- Released: never edit this file; a change of logic is a new version.
--
-- Version 3 (joins and pre-aggregated lookups only: no subquery refers to an outer
-- query, so the transpiled query runs on Spark, Trino and the other warehouses) with
-- the chain as AWS evaluates it for the judged account:
--   - a pattern that reads a region or the account's id is judged in the judged
--     account's rendering of the catalogue, its id and the regions it uses
--     (cfgmon_judged_coverage), so a filter narrowed to one of its two regions misses
--     the other's events;
--   - a metric value is read in the judged account's rendering (cfgmon_judged_value);
--   - filters seen together by one alarm (cfgmon_group_coverage): those publishing
--     one metric, and those whose different metrics one metric-math alarm reads
--     (m1 + m2, SUM(METRICS())), judged on what they match together through that
--     alarm;
--   - a group that also matches ordinary traffic names the filter whose pattern does.
--
-- It judges every control written into cfgmon_chain_control just before it runs (one
-- row each), in one query: the links no control changes (trails, log groups, filters,
-- alarms, topics, subscriptions) are joined once, and each control's derived rows
-- (trail capture, pattern coverage, metric values) are keyed by it. It names no
-- control, event source or event. One row per collected account and bound control,
-- with the control's id and version. COMPLIANT when a whole chain exists:
--   trail (multi-region, logging, recording every catalogue record of the control)
--   -> CloudWatch Logs log group, by full ARN, present in the inventory
--   -> metric filter whose pattern matches every catalogue record, positive value
--   -> alarm in the filter's account and region on that metric, actions enabled,
--      breaching on a single event and not without one
--   -> SNS topic among its ALARM actions -> a confirmed subscription.
-- Otherwise the chain that got furthest names its first broken link. A link whose
-- data could not be collected makes the row INSUFFICIENT_DATA, never NON_COMPLIANT;
-- a control for management accounts only is NOT_APPLICABLE elsewhere. Links are
-- numbered 1..14; 15 is complete.
WITH
bound AS (
    SELECT control_id, control_version, event_set, event_noun, event_count, applies_to
    FROM cfgmon_chain_control
),

-- The bound controls' derived rows.
coverage AS (
    SELECT cov.*
    FROM cfgmon_pattern_coverage cov
    JOIN bound b ON cov.control_id = b.control_id AND cov.control_version = b.control_version
     AND cov.event_set = b.event_set
),

catalogue_value AS (
    SELECT cv.*
    FROM cfgmon_catalogue_value cv
    JOIN bound b ON cv.control_id = b.control_id AND cv.control_version = b.control_version
     AND cv.event_set = b.event_set
),

metric_coverage AS (
    SELECT mc.*
    FROM cfgmon_metric_coverage mc
    JOIN bound b ON mc.control_id = b.control_id AND mc.control_version = b.control_version
     AND mc.event_set = b.event_set
),

dimension_value AS (
    SELECT dv.*
    FROM cfgmon_dimension_value dv
    JOIN bound b ON dv.control_id = b.control_id AND dv.control_version = b.control_version
     AND dv.event_set = b.event_set
),

judged_coverage AS (
    SELECT jc.*
    FROM cfgmon_judged_coverage jc
    JOIN bound b ON jc.control_id = b.control_id AND jc.control_version = b.control_version
     AND jc.event_set = b.event_set
),

judged_value AS (
    SELECT jv.*
    FROM cfgmon_judged_value jv
    JOIN bound b ON jv.control_id = b.control_id AND jv.control_version = b.control_version
     AND jv.event_set = b.event_set
),

group_coverage AS (
    SELECT gc.*
    FROM cfgmon_group_coverage gc
    JOIN bound b ON gc.control_id = b.control_id AND gc.control_version = b.control_version
     AND gc.event_set = b.event_set
),

-- The metric-math alarms a filter's events reach together with other filters' (one
-- row per filter, judged account and alarm in group_coverage): whether any of them
-- covers, and the most events one of them matches, so that such a filter goes on to
-- its alarms (filter_pick); which alarm covers is the chain row's to say.
alarm_group_best AS (
    SELECT control_id, control_version, judged_account_id, log_group_account_id, region,
           log_group_name, filter_name,
           MAX(CASE WHEN covers_catalogue AND background_matched IS NULL THEN 1 ELSE 0 END)
               AS covers_clean,
           MAX(events_matched) AS events_matched
    FROM group_coverage
    WHERE alarm_arn <> ''
    GROUP BY control_id, control_version, judged_account_id, log_group_account_id, region,
             log_group_name, filter_name
),

trail_capture AS (
    SELECT tc.*
    FROM cfgmon_trail_capture tc
    JOIN bound b ON tc.control_id = b.control_id AND tc.control_version = b.control_version
     AND tc.event_set = b.event_set
),

accounts AS (
    SELECT account_id, status AS account_status, error_code AS account_error_code,
           error_message AS account_error_message, organization_id, management_account_id,
           organization_known
    FROM cfgmon_account
),

scope_ok AS (
    SELECT account_id, region, service FROM cfgmon_collection WHERE status = 'ok'
),

scope_failed AS (
    SELECT account_id, region, service, error_code, error_operation
    FROM cfgmon_collection WHERE status = 'error'
),

-- Trails that apply to an account: those its own DescribeTrails listed, and the
-- organisation trails of its management account. One copy per ARN, preferring
-- the copy collected from the trail's owner.
applicable_trail AS (
    SELECT * FROM (
        SELECT acc.account_id, t.account_id AS seen_in_account, t.arn AS trail_arn,
               t.home_region, t.is_multi_region_trail, t.is_logging,
               t.event_selectors_collected, t.cloud_watch_logs_log_group_arn,
               t.latest_cloud_watch_logs_delivery_error,
               t.log_group_account_id, t.log_group_region, t.log_group_name,
               -- the log group's own ARN: the trail's target without the ':*' AWS appends
               REPLACE(t.cloud_watch_logs_log_group_arn, ':*', '') AS log_group_arn,
               ROW_NUMBER() OVER (
                   PARTITION BY acc.account_id, t.arn
                   ORDER BY CASE WHEN t.account_id = t.owner_account_id THEN 0 ELSE 1 END,
                            t.account_id
               ) AS copy_rank
        FROM accounts acc
        JOIN aws_cloudtrail_trail t
          ON t.account_id = acc.account_id
          OR (t.is_organization_trail = TRUE
              AND t.account_id = acc.management_account_id
              AND t.owner_account_id = acc.management_account_id)
    ) ranked
    WHERE copy_rank = 1
),

trail_log_group AS (
    SELECT t.*,
           CASE WHEN lg.name IS NOT NULL THEN 1 ELSE 0 END AS log_group_present,
           CASE WHEN s.account_id IS NOT NULL THEN 1 ELSE 0 END AS log_group_scope_ok
    FROM applicable_trail t
    LEFT JOIN aws_cloudwatch_log_group lg
      ON lg.account_id = t.log_group_account_id AND lg.region = t.log_group_region
     AND lg.name = t.log_group_name
    -- one row per scope (account, region, service)
    LEFT JOIN scope_ok s
      ON s.account_id = t.log_group_account_id AND s.region = t.log_group_region
     AND s.service = 'logs'
),

-- The metric filters on the log group each trail delivers to (no control changes them).
trail_filter AS (
    SELECT tl.*, f.name AS filter_name, f.filter_pattern,
           f.metric_transformation_name AS metric_name,
           f.metric_transformation_namespace AS metric_namespace,
           f.metric_transformation_value AS metric_value,
           f.metric_transformation_default_value AS metric_default_value,
           f.metric_transformation_unit AS metric_unit
    FROM trail_log_group tl
    LEFT JOIN aws_cloudwatch_log_metric_filter f
      ON tl.log_group_present = 1
     AND f.account_id = tl.log_group_account_id AND f.region = tl.log_group_region
     AND f.log_group_name = tl.log_group_name
),

-- Each bound control's view of those filters: whether the trail records its
-- catalogue records (derived from its selectors, excluded event sources, global
-- service events and home region) and what the pattern and value do to them. A
-- pattern that reads the account's id is judged in the judged account's rendering of
-- the records; filters of one log group publishing one metric are judged together
-- (what the metric's alarm sees is every event any of them matches).
filter_judged AS (
    SELECT tf.*, b.control_id, b.control_version,
           cap.captures_catalogue, cap.missed_events AS capture_missed_events,
           cap.missed_because AS capture_missed_because,
           -- the judged account's own rendering where the pattern has one
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.pattern_valid ELSE cov.pattern_valid END AS pattern_valid,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.pattern_error ELSE cov.pattern_error END AS pattern_error,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.events_total ELSE cov.events_total END AS events_total,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.broader_than_reference ELSE cov.broader_than_reference END AS broader_than_reference,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.covers_catalogue ELSE cov.covers_catalogue END AS own_covers_catalogue,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.events_matched ELSE cov.events_matched END AS own_events_matched,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.missed_events ELSE cov.missed_events END AS own_missed_events,
           CASE WHEN acov.filter_pattern IS NOT NULL THEN acov.background_matched ELSE cov.background_matched END AS own_background_matched,
           -- the filters publishing the same metric, together
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.filter_names ELSE mc.filter_names END AS metric_filters,
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.covers_catalogue ELSE mc.covers_catalogue END AS metric_covers_catalogue,
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.events_matched ELSE mc.events_matched END AS metric_events_matched,
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.missed_events ELSE mc.missed_events END AS metric_missed_events,
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.background_matched ELSE mc.background_matched END AS metric_background_matched,
           CASE WHEN amc.filter_name IS NOT NULL THEN amc.background_filter ELSE mc.background_filter END AS metric_background_filter,
           -- the metric-math alarms that read it with other filters' metrics
           CASE WHEN aagb.filter_name IS NOT NULL THEN aagb.covers_clean ELSE agb.covers_clean END AS alarm_group_covers,
           CASE WHEN aagb.filter_name IS NOT NULL THEN aagb.events_matched ELSE agb.events_matched END AS alarm_group_events_matched,
           -- the value in the judged account's rendering where it has one
           CASE WHEN jv.expression IS NOT NULL THEN jv.positive_number ELSE mv.positive_number END AS value_positive,
           CASE WHEN jv.expression IS NOT NULL THEN jv.min_number ELSE mv.min_number END AS value_number
    FROM trail_filter tf
    CROSS JOIN bound b
    LEFT JOIN trail_capture cap
      ON cap.control_id = b.control_id AND cap.control_version = b.control_version
     AND cap.account_id = tf.seen_in_account AND cap.trail_arn = tf.trail_arn
    LEFT JOIN coverage cov
      ON cov.control_id = b.control_id AND cov.control_version = b.control_version
     AND cov.judged_account_id = '' AND cov.filter_pattern = COALESCE(tf.filter_pattern, '')
    LEFT JOIN judged_coverage acov
      ON acov.control_id = b.control_id AND acov.control_version = b.control_version
     AND acov.judged_account_id = tf.account_id AND acov.filter_pattern = COALESCE(tf.filter_pattern, '')
    LEFT JOIN group_coverage mc
      ON mc.control_id = b.control_id AND mc.control_version = b.control_version
     AND mc.judged_account_id = '' AND mc.alarm_arn = ''
     AND mc.log_group_account_id = tf.log_group_account_id
     AND mc.region = tf.log_group_region AND mc.log_group_name = tf.log_group_name
     AND mc.filter_name = tf.filter_name
    LEFT JOIN group_coverage amc
      ON amc.control_id = b.control_id AND amc.control_version = b.control_version
     AND amc.judged_account_id = tf.account_id AND amc.alarm_arn = ''
     AND amc.log_group_account_id = tf.log_group_account_id
     AND amc.region = tf.log_group_region AND amc.log_group_name = tf.log_group_name
     AND amc.filter_name = tf.filter_name
    LEFT JOIN alarm_group_best agb
      ON agb.control_id = b.control_id AND agb.control_version = b.control_version
     AND agb.judged_account_id = '' AND agb.log_group_account_id = tf.log_group_account_id
     AND agb.region = tf.log_group_region AND agb.log_group_name = tf.log_group_name
     AND agb.filter_name = tf.filter_name
    LEFT JOIN alarm_group_best aagb
      ON aagb.control_id = b.control_id AND aagb.control_version = b.control_version
     AND aagb.judged_account_id = tf.account_id AND aagb.log_group_account_id = tf.log_group_account_id
     AND aagb.region = tf.log_group_region AND aagb.log_group_name = tf.log_group_name
     AND aagb.filter_name = tf.filter_name
    LEFT JOIN catalogue_value mv
      ON mv.control_id = b.control_id AND mv.control_version = b.control_version
     AND mv.expression = tf.metric_value
    LEFT JOIN judged_value jv
      ON jv.control_id = b.control_id AND jv.control_version = b.control_version
     AND jv.judged_account_id = tf.account_id AND jv.expression = tf.metric_value
),

-- A filter covers what its metric's alarm sees: its own matches, or, with other
-- filters publishing the same metric, theirs together (an alarm reading several
-- filters' metrics sees more: chain_alarm). may_cover: through some alarm.
filter_seen AS (
    SELECT fs.*,
           CASE WHEN (COALESCE(fs.filter_covers_catalogue, FALSE)
                      AND fs.filter_background_matched IS NULL)
                  OR COALESCE(fs.alarm_group_covers, 0) = 1 THEN 1 ELSE 0 END AS may_cover,
           CASE WHEN COALESCE(fs.alarm_group_events_matched, 0) > COALESCE(fs.filter_events_matched, 0)
                THEN fs.alarm_group_events_matched ELSE fs.filter_events_matched END
               AS best_events_matched
    FROM (
        SELECT fj.*,
               CASE WHEN fj.metric_filters IS NOT NULL THEN fj.metric_covers_catalogue
                    ELSE fj.own_covers_catalogue END AS filter_covers_catalogue,
               CASE WHEN fj.metric_filters IS NOT NULL THEN fj.metric_events_matched
                    ELSE fj.own_events_matched END AS filter_events_matched,
               CASE WHEN fj.metric_filters IS NOT NULL THEN fj.metric_missed_events
                    ELSE fj.own_missed_events END AS filter_missed_events,
               CASE WHEN fj.metric_filters IS NOT NULL THEN fj.metric_background_matched
                    ELSE fj.own_background_matched END AS filter_background_matched,
               CASE WHEN fj.metric_filters IS NOT NULL THEN fj.metric_background_filter
                    END AS filter_background_filter
        FROM filter_judged fj
    ) fs
),

-- Only the filters an account's verdict can rest on go further. A filter that does not
-- cover (or also matches ordinary traffic) breaks its chains at link 7, or earlier at
-- its trail, like every other such filter of the trail: of those only the one the
-- ranking below would pick (most events matched) and the first by name (the furthest
-- undecided chain's pick) can speak for the account. A trail's other filters, most of
-- a log group that holds every control's filters, are left out before the alarms.
filter_pick AS (
    SELECT control_id, control_version, account_id, trail_arn,
           -- the ranking's order as one text: most events matched, then an invalid
           -- pattern first (as chain_rank orders them), then the name
           SUBSTR(MIN(LPAD(CAST(1000000 - COALESCE(best_events_matched, 0) AS VARCHAR), 7, '0')
                      || CASE WHEN pattern_valid = FALSE THEN '0' ELSE '1' END
                      || filter_name), 9) AS best_filter,
           MIN(filter_name) AS first_filter
    FROM filter_seen
    WHERE filter_name IS NOT NULL AND may_cover = 0
    GROUP BY control_id, control_version, account_id, trail_arn
),

chain_filter AS (
    SELECT fs.*
    FROM filter_seen fs
    LEFT JOIN filter_pick fp
      ON fp.control_id = fs.control_id AND fp.control_version = fs.control_version
     AND fp.account_id = fs.account_id AND fp.trail_arn = fs.trail_arn
    WHERE fs.filter_name IS NULL OR fs.may_cover = 1
       OR fs.filter_name = fp.best_filter OR fs.filter_name = fp.first_filter
),

-- The metrics an alarm evaluates: its own metric, or a metric-math MetricStat (whether
-- the expression it feeds raises the alarm is the alarm response's to say). metric_id
-- is '' for an alarm's own metric.
alarm_metric AS (
    SELECT account_id, region, arn AS alarm_arn, '' AS metric_id, metric_name, namespace,
           COALESCE(statistic, extended_statistic) AS stat, unit
    FROM aws_cloudwatch_alarm
    WHERE alarm_type = 'MetricAlarm' AND metric_name IS NOT NULL
    UNION ALL
    SELECT account_id, region, alarm_arn, id AS metric_id, metric_name, namespace, stat, unit
    FROM aws_cloudwatch_alarm_metric
    WHERE metric_name IS NOT NULL
      AND (metric_account_id IS NULL OR metric_account_id = account_id)
),

alarm_metric_dimension AS (
    SELECT account_id, region, alarm_arn, '' AS metric_id, name, value
    FROM aws_cloudwatch_alarm_dimension
    UNION ALL
    SELECT account_id, region, alarm_arn, metric_id, name, value
    FROM aws_cloudwatch_alarm_metric_dimension
),

alarm_dimension_count AS (
    SELECT account_id, region, alarm_arn, metric_id, COUNT(*) AS dimensions
    FROM alarm_metric_dimension
    GROUP BY account_id, region, alarm_arn, metric_id
),

filter_dimension_count AS (
    SELECT account_id, region, log_group_name, filter_name, COUNT(*) AS dimensions
    FROM aws_cloudwatch_log_metric_filter_dimension
    GROUP BY account_id, region, log_group_name, filter_name
),

-- A filter's dimensions with the value each takes on every catalogue record of a
-- control (NULL when the records disagree, so no single alarm dimension can see them
-- all): one row with judged_account_id '' when the value is every account's, else one
-- per judged account, in its own rendering of the records.
filter_dimension AS (
    SELECT v.control_id, v.control_version, v.judged_account_id, d.account_id, d.region,
           d.log_group_name, d.filter_name, d.dimension_name, v.constant_value
    FROM aws_cloudwatch_log_metric_filter_dimension d
    JOIN dimension_value v ON v.value_selector = d.value_selector
),

-- Alarms on a trail filter's metric: same account, region, name, namespace and as many
-- dimensions as the filter publishes. An alarm that names a unit sees only datapoints
-- of that unit, and a filter without a unit publishes 'None'.
filter_alarm AS (
    SELECT DISTINCT tf.log_group_account_id, tf.log_group_region, tf.log_group_name,
           tf.filter_name, am.alarm_arn, am.metric_id, am.stat,
           COALESCE(fdc.dimensions, 0) AS dimensions
    FROM (SELECT DISTINCT log_group_account_id, log_group_region, log_group_name, filter_name,
                          metric_name, metric_namespace, metric_unit
          FROM trail_filter WHERE filter_name IS NOT NULL) tf
    JOIN alarm_metric am
      ON am.account_id = tf.log_group_account_id AND am.region = tf.log_group_region
     AND am.metric_name = tf.metric_name AND am.namespace = tf.metric_namespace
     AND (am.unit IS NULL OR am.unit = COALESCE(tf.metric_unit, 'None'))
    LEFT JOIN filter_dimension_count fdc
      ON fdc.account_id = tf.log_group_account_id AND fdc.region = tf.log_group_region
     AND fdc.log_group_name = tf.log_group_name AND fdc.filter_name = tf.filter_name
    LEFT JOIN alarm_dimension_count adc
      ON adc.account_id = am.account_id AND adc.region = am.region
     AND adc.alarm_arn = am.alarm_arn AND adc.metric_id = am.metric_id
    WHERE COALESCE(fdc.dimensions, 0) = COALESCE(adc.dimensions, 0)
),

-- How many of a filter's dimensions each alarm on its metric names with the value the
-- filter publishes for a control's records (a dimension's value depends on the
-- records, so this one check is per control): for the dimensions whose value is every
-- account's (judged_account_id ''), and for those a judged account's rendering gives.
-- Counted once, for every pair of filter_alarm.
dimension_agreement AS (
    SELECT fd.control_id, fd.control_version, fd.judged_account_id, fa.log_group_account_id,
           fa.log_group_region, fa.log_group_name, fa.filter_name, fa.alarm_arn, fa.metric_id,
           COUNT(ad.name) AS agreeing
    FROM filter_alarm fa
    JOIN filter_dimension fd
      ON fd.account_id = fa.log_group_account_id AND fd.region = fa.log_group_region
     AND fd.log_group_name = fa.log_group_name AND fd.filter_name = fa.filter_name
    LEFT JOIN alarm_metric_dimension ad
      ON ad.account_id = fa.log_group_account_id AND ad.region = fa.log_group_region
     AND ad.alarm_arn = fa.alarm_arn AND ad.metric_id = fa.metric_id
     AND ad.name = fd.dimension_name AND ad.value = fd.constant_value
    WHERE fa.dimensions > 0
    GROUP BY fd.control_id, fd.control_version, fd.judged_account_id, fa.log_group_account_id,
             fa.log_group_region, fa.log_group_name, fa.filter_name, fa.alarm_arn, fa.metric_id
),

-- ... and with exactly the values the filter publishes for the control's records, in
-- the judged account's rendering: per judged account (trail_filter's account_id) and
-- control, the alarms on the metric of each filter its trails reach.
watching_alarm AS (
    SELECT jf.account_id AS judged_account_id, fa.*, b.control_id, b.control_version
    FROM (SELECT DISTINCT account_id, log_group_account_id, log_group_region, log_group_name,
                          filter_name
          FROM trail_filter WHERE filter_name IS NOT NULL) jf
    JOIN filter_alarm fa
      ON fa.log_group_account_id = jf.log_group_account_id
     AND fa.log_group_region = jf.log_group_region AND fa.log_group_name = jf.log_group_name
     AND fa.filter_name = jf.filter_name
    CROSS JOIN bound b
    LEFT JOIN dimension_agreement shared
      ON shared.control_id = b.control_id AND shared.control_version = b.control_version
     AND shared.judged_account_id = '' AND shared.log_group_account_id = fa.log_group_account_id
     AND shared.log_group_region = fa.log_group_region
     AND shared.log_group_name = fa.log_group_name AND shared.filter_name = fa.filter_name
     AND shared.alarm_arn = fa.alarm_arn AND shared.metric_id = fa.metric_id
    LEFT JOIN dimension_agreement own
      ON own.control_id = b.control_id AND own.control_version = b.control_version
     AND own.judged_account_id = jf.account_id
     AND own.log_group_account_id = fa.log_group_account_id
     AND own.log_group_region = fa.log_group_region
     AND own.log_group_name = fa.log_group_name AND own.filter_name = fa.filter_name
     AND own.alarm_arn = fa.alarm_arn AND own.metric_id = fa.metric_id
    WHERE fa.dimensions = 0
       OR COALESCE(shared.agreeing, 0) + COALESCE(own.agreeing, 0) = fa.dimensions
),

-- What each alarm's ALARM notifies, the same for every control: the SNS topics of its
-- own ALARM actions and of the composite alarms it alone raises (cfgmon_alarm_route),
-- whether they exist and were collected, and their subscriptions.
alarm_topic AS (
    SELECT act.account_id, act.region, act.alarm_arn, act.topic_arn, act.via_alarm_arn,
           t.topic_arn AS topic_present_arn, t.account_id AS topic_account_id,
           t.region AS topic_region,
           -- whether the topic's SNS scope was collected in the latest run: a stored
           -- topic by its own account and region; a missing one by its ARN
           -- (arn:partition:sns:region:account:name)
           CASE WHEN s.account_id IS NOT NULL THEN 1 ELSE 0 END AS topic_scope_ok,
           -- whether the topic can deliver the alarm's notification, and to whom
           -- (cfgmon_topic_delivery: its KMS key, its policy, every subscription on it
           -- with its filter policy, whoever owns it)
           dl.can_deliver AS topic_can_deliver,
           dl.undeliverable_because AS topic_undeliverable_because,
           dl.undecided_because AS topic_undecided_because,
           dl.kms_key_arn AS topic_kms_key_arn,
           COALESCE(dl.working_subscriptions, 0) AS confirmed_subscriptions,
           COALESCE(dl.pending_subscriptions, 0) AS pending_subscriptions,
           COALESCE(dl.filtered_out_subscriptions, 0) AS filtered_out_subscriptions,
           dl.filtered_out_example,
           dl.first_working_subscription_arn AS subscription_arn
    FROM cfgmon_alarm_route act
    LEFT JOIN (SELECT DISTINCT topic_arn, account_id, region FROM aws_sns_topic) t
      ON t.topic_arn = act.topic_arn
    LEFT JOIN scope_ok s
      ON s.service = 'sns'
     AND s.account_id = COALESCE(t.account_id, SPLIT_PART(act.topic_arn, ':', 5))
     AND s.region = COALESCE(t.region, SPLIT_PART(act.topic_arn, ':', 4))
    LEFT JOIN cfgmon_topic_delivery dl
      ON dl.topic_arn = act.topic_arn
     -- the alarm whose ALARM action names the topic: a composite's, or its own
     AND dl.alarm_arn = COALESCE(act.via_alarm_arn, act.alarm_arn)
    WHERE act.alarm_arn IN (SELECT alarm_arn FROM filter_alarm)
),

alarm_scope AS (
    SELECT DISTINCT account_id, region FROM scope_ok WHERE service = 'cloudwatch'
),

chain_alarm AS (
    SELECT cf.*,
           -- what the alarm sees: with the other filters whose metrics it reads, theirs
           -- too (ja, jc); else the filter's own, or its metric's filters' together
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.covers_catalogue
                WHEN jc.filter_name IS NOT NULL THEN jc.covers_catalogue ELSE cf.filter_covers_catalogue END AS covers_catalogue,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.events_matched
                WHEN jc.filter_name IS NOT NULL THEN jc.events_matched ELSE cf.filter_events_matched END AS events_matched,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.missed_events
                WHEN jc.filter_name IS NOT NULL THEN jc.missed_events ELSE cf.filter_missed_events END AS missed_events,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.background_matched
                WHEN jc.filter_name IS NOT NULL THEN jc.background_matched ELSE cf.filter_background_matched END AS background_matched,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.background_filter
                WHEN jc.filter_name IS NOT NULL THEN jc.background_filter ELSE cf.filter_background_filter END AS background_filter,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.filter_names
                WHEN jc.filter_name IS NOT NULL THEN jc.filter_names ELSE cf.metric_filters END AS seen_filters,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.alarm_arn
                WHEN jc.filter_name IS NOT NULL THEN jc.alarm_arn ELSE CAST(NULL AS VARCHAR) END AS group_alarm_arn,
           -- the alarm's answer to this filter's event in that group (the other
           -- metrics publishing their filters' default values)
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.alarms_on_event
                WHEN jc.filter_name IS NOT NULL THEN jc.alarms_on_event END AS group_alarms_on_event,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.alarm_when_quiet
                WHEN jc.filter_name IS NOT NULL THEN jc.alarm_when_quiet END AS group_alarm_when_quiet,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.leaves_alarm
                WHEN jc.filter_name IS NOT NULL THEN jc.leaves_alarm END AS group_leaves_alarm,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.alarm_unsupported
                WHEN jc.filter_name IS NOT NULL THEN jc.alarm_unsupported END AS group_alarm_unsupported,
           CASE WHEN ja.filter_name IS NOT NULL THEN ja.alarm_why
                WHEN jc.filter_name IS NOT NULL THEN jc.alarm_why END AS group_alarm_why,
           a.arn AS alarm_arn, wa.metric_id AS alarm_metric_id, a.actions_enabled,
           wa.stat AS alarm_stat,
           a.threshold, a.comparison_operator, a.evaluation_periods, a.datapoints_to_alarm,
           a.threshold_metric_id, a.treat_missing_data, a.evaluate_low_sample_count_percentile,
           CASE WHEN sc.account_id IS NOT NULL THEN 1 ELSE 0 END AS alarm_scope_ok
    FROM chain_filter cf
    LEFT JOIN watching_alarm wa
      ON wa.control_id = cf.control_id AND wa.control_version = cf.control_version
     AND wa.judged_account_id = cf.account_id
     AND wa.log_group_account_id = cf.log_group_account_id
     AND wa.log_group_region = cf.log_group_region
     AND wa.log_group_name = cf.log_group_name AND wa.filter_name = cf.filter_name
    LEFT JOIN aws_cloudwatch_alarm a
      ON a.account_id = cf.log_group_account_id AND a.region = cf.log_group_region
     AND a.arn = wa.alarm_arn
    -- the judged account's own rendering of the alarm's group where it has one (ja)
    LEFT JOIN group_coverage ja
      ON ja.control_id = cf.control_id AND ja.control_version = cf.control_version
     AND ja.judged_account_id = cf.account_id AND ja.alarm_arn = wa.alarm_arn
     AND ja.log_group_account_id = cf.log_group_account_id AND ja.region = cf.log_group_region
     AND ja.log_group_name = cf.log_group_name AND ja.filter_name = cf.filter_name
    LEFT JOIN group_coverage jc
      ON jc.control_id = cf.control_id AND jc.control_version = cf.control_version
     AND jc.judged_account_id = '' AND jc.alarm_arn = wa.alarm_arn
     AND jc.log_group_account_id = cf.log_group_account_id AND jc.region = cf.log_group_region
     AND jc.log_group_name = cf.log_group_name AND jc.filter_name = cf.filter_name
    LEFT JOIN alarm_scope sc
      ON sc.account_id = cf.log_group_account_id AND sc.region = cf.log_group_region
),

-- How the alarm answers one event and quiet (cfgmon_alarm_response, simulated by
-- cfgmon.alarms for what the filter publishes: its metric-math expression, statistic,
-- threshold, datapoints to alarm, missing data and the filter's default value). An
-- alarm notifies only when its state changes, so it must go into ALARM on one event,
-- not be in ALARM without any, and leave ALARM again.
alarm_breach AS (
    SELECT ca.*,
           -- in an alarm's group, the group's answer (cfgmon_group_coverage)
           CASE WHEN ca.group_alarm_why IS NOT NULL THEN ca.group_alarms_on_event
                ELSE r.alarms_on_event END AS alarms_on_event,
           CASE WHEN ca.group_alarm_why IS NOT NULL THEN ca.group_alarm_when_quiet
                ELSE r.alarm_when_quiet END AS alarm_when_quiet,
           CASE WHEN ca.group_alarm_why IS NOT NULL THEN ca.group_leaves_alarm
                ELSE r.leaves_alarm END AS leaves_alarm,
           CASE WHEN ca.group_alarm_why IS NOT NULL THEN ca.group_alarm_unsupported
                ELSE r.unsupported END AS alarm_unsupported,
           CASE WHEN ca.group_alarm_why IS NOT NULL THEN ca.group_alarm_why
                ELSE r.why END AS alarm_why
    FROM chain_alarm ca
    LEFT JOIN cfgmon_alarm_response r
      ON r.account_id = ca.log_group_account_id AND r.region = ca.log_group_region
     AND r.alarm_arn = ca.alarm_arn AND r.metric_id = ca.alarm_metric_id
     AND r.event_value IS NOT DISTINCT FROM ca.value_number
     AND r.default_value IS NOT DISTINCT FROM ca.metric_default_value
),

chain_action AS (
    SELECT ab.*, tp.topic_arn, tp.via_alarm_arn, tp.topic_present_arn, tp.topic_account_id,
           tp.topic_region,
           COALESCE(tp.topic_scope_ok, 0) AS topic_scope_ok,
           tp.topic_can_deliver, tp.topic_undeliverable_because, tp.topic_undecided_because,
           tp.topic_kms_key_arn, COALESCE(tp.filtered_out_subscriptions, 0)
               AS filtered_out_subscriptions, tp.filtered_out_example,
           COALESCE(tp.confirmed_subscriptions, 0) AS confirmed_subscriptions,
           COALESCE(tp.pending_subscriptions, 0) AS pending_subscriptions,
           tp.subscription_arn
    FROM alarm_breach ab
    LEFT JOIN alarm_topic tp
      ON tp.account_id = ab.log_group_account_id AND tp.region = ab.log_group_region
     AND tp.alarm_arn = ab.alarm_arn
),

chain AS (
    SELECT acc.account_id AS subject_account_id, acc.account_status, acc.account_error_code,
           acc.account_error_message, bd.control_id AS judged_control_id,
           bd.control_version AS judged_control_version, bd.event_noun, bd.event_count,
           bd.applies_to, ca.*
    FROM accounts acc
    CROSS JOIN bound bd
    LEFT JOIN chain_action ca
      ON ca.account_id = acc.account_id AND ca.control_id = bd.control_id
     AND ca.control_version = bd.control_version
),

-- The first broken link of each chain; 15 means the chain is complete.
chain_link AS (
    SELECT c.*,
           CASE
               WHEN c.trail_arn IS NULL THEN 1
               WHEN COALESCE(c.is_multi_region_trail, FALSE) = FALSE THEN 2
               WHEN COALESCE(c.is_logging, FALSE) = FALSE THEN 3
               WHEN COALESCE(c.captures_catalogue, FALSE) = FALSE THEN 4
               WHEN c.cloud_watch_logs_log_group_arn IS NULL THEN 5
               WHEN c.log_group_present = 0 THEN 6
               -- covering every record is not enough when the pattern also matches
               -- ordinary traffic: its alarm would stay in ALARM and notify no one
               WHEN COALESCE(c.covers_catalogue, FALSE) = FALSE
                 OR c.background_matched IS NOT NULL THEN 7
               WHEN COALESCE(c.value_positive, FALSE) = FALSE THEN 8
               WHEN c.alarm_arn IS NULL THEN 9
               -- a composite alarm it raises notifies with the composite's actions
               WHEN COALESCE(c.actions_enabled, FALSE) = FALSE AND c.via_alarm_arn IS NULL THEN 10
               -- link 11 (see alarm_breach): in ALARM without any event, no ALARM on
               -- one event, never back out of ALARM once in it, or not evaluated
               WHEN c.alarm_unsupported IS NOT NULL OR c.alarm_when_quiet = TRUE
                 OR COALESCE(c.alarms_on_event, FALSE) = FALSE
                 OR c.leaves_alarm = FALSE THEN 11
               WHEN c.topic_arn IS NULL THEN 12
               WHEN c.topic_present_arn IS NULL THEN 13
               -- the topic must be able to deliver (key, policy) to a working subscription
               WHEN COALESCE(c.topic_can_deliver, FALSE) = FALSE
                 OR c.confirmed_subscriptions = 0 THEN 14
               ELSE 15
           END AS broken_link
    FROM chain c
),

-- Whether the broken link is unknown rather than broken: its data was not
-- collected, or its scope's latest collection failed and only older rows decide
-- it (stored rows are kept when a fetch fails, but never turn into NON_COMPLIANT).
chain_judged AS (
    SELECT cl.*,
           CASE
               WHEN cl.broken_link = 3 AND cl.is_logging IS NULL THEN 1
               WHEN cl.broken_link = 4 AND cl.captures_catalogue IS NULL THEN 1
               WHEN cl.broken_link IN (6, 7, 8) AND cl.log_group_scope_ok = 0 THEN 1
               WHEN cl.broken_link IN (9, 10, 11, 12) AND cl.alarm_scope_ok = 0 THEN 1
               WHEN cl.broken_link IN (13, 14) AND cl.topic_scope_ok = 0 THEN 1
               ELSE 0
           END AS data_missing,
           -- the scope a link's data comes from
           CASE WHEN cl.broken_link IN (6, 7, 8) THEN 'logs'
                WHEN cl.broken_link IN (9, 10, 11, 12) THEN 'cloudwatch'
                WHEN cl.broken_link IN (13, 14) THEN 'sns' END AS link_service,
           CASE WHEN cl.broken_link = 14 THEN cl.topic_account_id
                ELSE cl.log_group_account_id END AS link_account_id,
           CASE WHEN cl.broken_link = 14 THEN cl.topic_region
                ELSE cl.log_group_region END AS link_region
    FROM chain_link cl
),

-- The chains each account's verdict may rest on, per control: the furthest, and the
-- furthest undecided one. Ranked over the chains' keys alone, then joined back (a
-- window over the chains' every column sorts far more than it needs to); only the
-- few undecided chains are ranked for the second.
chain_rank AS (
    SELECT cj.judged_control_id, cj.judged_control_version, cj.subject_account_id,
           COALESCE(cj.trail_arn, '') AS trail_key, COALESCE(cj.filter_name, '') AS filter_key,
           COALESCE(cj.alarm_arn, '') AS alarm_key, COALESCE(cj.alarm_metric_id, '') AS metric_key,
           COALESCE(cj.topic_arn, '') AS topic_key, COALESCE(cj.via_alarm_arn, '') AS via_key,
           ROW_NUMBER() OVER (
               PARTITION BY cj.judged_control_id, cj.judged_control_version, cj.subject_account_id
               ORDER BY cj.broken_link DESC, COALESCE(cj.events_matched, 0) DESC,
                        CASE WHEN cj.pattern_valid = FALSE THEN 0 ELSE 1 END,
                        cj.trail_arn, cj.filter_name, cj.alarm_arn, cj.topic_arn, cj.via_alarm_arn
           ) AS chain_rank
    FROM chain_judged cj
),

missing_rank AS (
    SELECT cj.judged_control_id, cj.judged_control_version, cj.subject_account_id,
           COALESCE(cj.trail_arn, '') AS trail_key, COALESCE(cj.filter_name, '') AS filter_key,
           COALESCE(cj.alarm_arn, '') AS alarm_key, COALESCE(cj.alarm_metric_id, '') AS metric_key,
           COALESCE(cj.topic_arn, '') AS topic_key, COALESCE(cj.via_alarm_arn, '') AS via_key,
           ROW_NUMBER() OVER (
               PARTITION BY cj.judged_control_id, cj.judged_control_version, cj.subject_account_id
               ORDER BY cj.broken_link DESC, cj.trail_arn, cj.filter_name, cj.alarm_arn, cj.topic_arn,
                        cj.via_alarm_arn
           ) AS missing_rank
    FROM chain_judged cj
    WHERE cj.data_missing = 1
),

-- the furthest chain (rank 1), and the furthest undecided one when it is another
-- (ranked after the furthest: its own rank is above 1)
best_key AS (
    SELECT judged_control_id, judged_control_version, subject_account_id, trail_key, filter_key,
           alarm_key, metric_key, topic_key, via_key, MIN(chain_rank) AS chain_rank
    FROM (
        SELECT judged_control_id, judged_control_version, subject_account_id, trail_key,
               filter_key, alarm_key, metric_key, topic_key, via_key, chain_rank
        FROM chain_rank WHERE chain_rank = 1
        UNION ALL
        SELECT judged_control_id, judged_control_version, subject_account_id, trail_key,
               filter_key, alarm_key, metric_key, topic_key, via_key, 2 AS chain_rank
        FROM missing_rank WHERE missing_rank = 1
    ) winners
    GROUP BY judged_control_id, judged_control_version, subject_account_id, trail_key,
             filter_key, alarm_key, metric_key, topic_key, via_key
),

best_chain AS (
    SELECT cj.*, bk.chain_rank
    FROM best_key bk
    JOIN chain_judged cj
      ON cj.judged_control_id = bk.judged_control_id
     AND cj.judged_control_version = bk.judged_control_version
     AND cj.subject_account_id = bk.subject_account_id
     AND COALESCE(cj.trail_arn, '') = bk.trail_key AND COALESCE(cj.filter_name, '') = bk.filter_key
     AND COALESCE(cj.alarm_arn, '') = bk.alarm_key
     AND COALESCE(cj.alarm_metric_id, '') = bk.metric_key
     AND COALESCE(cj.topic_arn, '') = bk.topic_key
     AND COALESCE(cj.via_alarm_arn, '') = bk.via_key
),

-- CloudTrail scopes whose latest collection failed: a trail hidden there could
-- complete a chain, so without a complete chain the account is undecided.
trail_scope_failed AS (
    SELECT account_id, region, error_code, error_operation, failures FROM (
        SELECT account_id, region, error_code, error_operation,
               COUNT(*) OVER (PARTITION BY account_id) AS failures,
               ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY region) AS failure_rank
        FROM scope_failed
        WHERE service = 'cloudtrail'
    ) ranked
    WHERE failure_rank = 1
),

-- Organisation members whose management account, owner of the organisation trails
-- that apply to them, was not collected or could not be: such a trail could complete
-- a chain, so without a complete chain the member is undecided.
management_missing AS (
    SELECT acc.account_id, acc.organization_id, acc.management_account_id,
           m.account_error_code AS management_error_code
    FROM accounts acc
    LEFT JOIN accounts m ON m.account_id = acc.management_account_id
    WHERE acc.management_account_id <> acc.account_id
      AND COALESCE(m.account_status, 'not collected') <> 'ok'
),

verdict AS (
    SELECT b.*,
           COALESCE(tf.region, tfm.region) AS trail_failed_region,
           COALESCE(tf.error_code, tfm.error_code) AS trail_failed_code,
           COALESCE(tf.error_operation, tfm.error_operation) AS trail_failed_operation,
           CASE WHEN tf.account_id IS NULL THEN tfm.account_id END AS trail_failed_management,
           mm.management_account_id AS missing_management_account_id,
           mm.organization_id AS missing_management_organization_id,
           mm.management_error_code AS missing_management_error_code,
           sa.organization_id AS subject_organization_id,
           sa.management_account_id AS subject_management_account_id,
           -- a control for management accounts only: what the judged account is
           CASE
               WHEN b.applies_to <> 'management_account' THEN NULL
               WHEN sa.management_account_id IS NOT NULL
                AND sa.management_account_id <> sa.account_id THEN 'member'
               WHEN sa.management_account_id IS NOT NULL THEN 'management'
               WHEN sa.organization_known = TRUE THEN 'outside'
               ELSE 'unknown'
           END AS organization_role,
           CASE
               -- a member (known from the organisation's listing even when the account
               -- itself could not be collected) or an account outside any organisation
               WHEN b.applies_to = 'management_account'
                AND ((sa.management_account_id IS NOT NULL AND sa.management_account_id <> sa.account_id)
                     OR (sa.management_account_id IS NULL AND sa.organization_known = TRUE))
                   THEN 'NOT_APPLICABLE'
               WHEN b.account_status <> 'ok' THEN 'INSUFFICIENT_DATA'
               WHEN b.applies_to = 'management_account' AND sa.management_account_id IS NULL
                   THEN 'INSUFFICIENT_DATA'
               WHEN b.broken_link = 15 THEN 'COMPLIANT'
               WHEN b.data_missing = 1 THEN 'INSUFFICIENT_DATA'
               -- an alarm whose expression cfgmon does not evaluate: never a guess
               WHEN b.broken_link = 11 AND b.alarm_unsupported IS NOT NULL THEN 'INSUFFICIENT_DATA'
               -- a topic whose delivery cannot be told (a key policy not readable, ...)
               WHEN b.broken_link = 14 AND b.topic_can_deliver IS NULL THEN 'INSUFFICIENT_DATA'
               WHEN (tf.account_id IS NOT NULL OR tfm.account_id IS NOT NULL
                     OR mm.account_id IS NOT NULL) AND b.broken_link <= 5 THEN 'INSUFFICIENT_DATA'
               ELSE 'NON_COMPLIANT'
           END AS status,
           -- the row that speaks for the account: the complete or furthest chain,
           -- unless some chain is undecided for want of data and none is complete
           ROW_NUMBER() OVER (
               PARTITION BY b.judged_control_id, b.judged_control_version, b.subject_account_id
               ORDER BY CASE WHEN b.broken_link = 15 THEN 0 ELSE 1 END,
                        b.data_missing DESC, b.chain_rank
           ) AS verdict_rank
    FROM best_chain b
    LEFT JOIN trail_scope_failed tf ON tf.account_id = b.subject_account_id
    LEFT JOIN management_missing mm ON mm.account_id = b.subject_account_id
    -- the management account's failed CloudTrail scopes may hide its organisation trails
    LEFT JOIN accounts sa ON sa.account_id = b.subject_account_id
    LEFT JOIN trail_scope_failed tfm
      ON tfm.account_id = sa.management_account_id AND sa.management_account_id <> sa.account_id
),

-- The near miss of an unwatched metric (link 9): an alarm on a metric of that name
-- that differs in account, region, namespace, unit or dimensions; searched in the
-- metric's own account first, then in the judged account's organisation (never in an
-- unrelated account). One equality join, ranked, rather than a lookup per account.
metric_near_miss AS (
    SELECT * FROM (
        SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id,
               am.alarm_arn, am.account_id, am.region, am.namespace,
               am.metric_name, am.unit, am.metric_id,
               -- the filter whose metric it misses
               v.log_group_account_id AS filter_account_id, v.log_group_region AS filter_region,
               v.log_group_name AS filter_log_group_name, v.filter_name,
               ROW_NUMBER() OVER (
                   PARTITION BY v.judged_control_id, v.judged_control_version, v.subject_account_id
                   ORDER BY CASE WHEN am.account_id = v.log_group_account_id THEN 0 ELSE 1 END,
                            CASE WHEN am.region = v.log_group_region THEN 0 ELSE 1 END,
                            am.alarm_arn) AS miss_rank
        FROM verdict v
        JOIN alarm_metric am ON am.metric_name = v.metric_name
        JOIN accounts alarm_account ON alarm_account.account_id = am.account_id
        JOIN accounts judged ON judged.account_id = v.subject_account_id
        WHERE v.verdict_rank = 1 AND v.broken_link = 9
          AND (am.account_id = v.log_group_account_id
               OR (alarm_account.organization_id IS NOT NULL
                   AND alarm_account.organization_id = judged.organization_id))
    ) ranked
    WHERE miss_rank = 1
),

-- Whether the near miss names the filter's dimensions with the values the filter
-- publishes for the control's records in the judged account's rendering (as
-- dimension_agreement does for the alarms that may watch it): how many the filter
-- publishes, how many of them it misses, and the first it misses, with its value.
near_miss_dimension AS (
    SELECT nm.judged_control_id, nm.judged_control_version, nm.subject_account_id,
           COUNT(*) AS filter_dimensions, COUNT(*) - COUNT(ad.name) AS disagreeing,
           MIN(CASE WHEN ad.name IS NULL THEN
                   fd.dimension_name || COALESCE('=' || fd.constant_value,
                                                 ' (its value differs between events)')
               END) AS missed_dimension
    FROM metric_near_miss nm
    JOIN filter_dimension fd
      ON fd.control_id = nm.judged_control_id AND fd.control_version = nm.judged_control_version
     AND (fd.judged_account_id = '' OR fd.judged_account_id = nm.subject_account_id)
     AND fd.account_id = nm.filter_account_id AND fd.region = nm.filter_region
     AND fd.log_group_name = nm.filter_log_group_name AND fd.filter_name = nm.filter_name
    LEFT JOIN alarm_metric_dimension ad
      ON ad.account_id = nm.account_id AND ad.region = nm.region
     AND ad.alarm_arn = nm.alarm_arn AND ad.metric_id = nm.metric_id
     AND ad.name = fd.dimension_name AND ad.value = fd.constant_value
    GROUP BY nm.judged_control_id, nm.judged_control_version, nm.subject_account_id
),

-- The near miss a join on log group names alone would count, for a log group without
-- a covering filter (link 7): a covering filter of the same account on a log group the
-- trail does not deliver to, the first by region, log group and name.
covering_elsewhere AS (
    SELECT * FROM (
        SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id,
               f.name AS filter_name, f.log_group_name, f.region,
               ROW_NUMBER() OVER (
                   PARTITION BY v.judged_control_id, v.judged_control_version, v.subject_account_id
                   ORDER BY f.region, f.log_group_name, f.name) AS elsewhere_rank
        FROM verdict v
        JOIN aws_cloudwatch_log_metric_filter f ON f.account_id = v.log_group_account_id
        JOIN coverage cov
          ON cov.control_id = v.judged_control_id AND cov.control_version = v.judged_control_version
         AND cov.filter_pattern = COALESCE(f.filter_pattern, '')
        WHERE v.verdict_rank = 1 AND v.broken_link = 7 AND cov.covers_catalogue = TRUE
          AND NOT (f.region = v.log_group_region AND f.log_group_name = v.log_group_name)
    ) ranked
    WHERE elsewhere_rank = 1
),

-- The collected scopes the speaking chain rests on: without a trail that does the
-- job, every CloudTrail scope of the account; the trail's home scope; and the scopes
-- of the links the chain reached. Equality joins only: this runs over every scope.
verdict_scope AS (
    SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id, c.service,
           c.account_id, c.region, c.status, c.error_code, c.last_success_at
    FROM verdict v
    JOIN cfgmon_collection c
      ON c.service = 'cloudtrail' AND c.account_id = v.subject_account_id
    WHERE v.verdict_rank = 1 AND v.broken_link <= 5
    UNION ALL
    SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id, c.service,
           c.account_id, c.region, c.status, c.error_code, c.last_success_at
    FROM verdict v
    JOIN cfgmon_collection c
      ON c.service = 'cloudtrail' AND c.account_id = v.seen_in_account AND c.region = v.home_region
    WHERE v.verdict_rank = 1 AND v.trail_arn IS NOT NULL
    UNION ALL
    SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id, c.service,
           c.account_id, c.region, c.status, c.error_code, c.last_success_at
    FROM verdict v
    JOIN cfgmon_collection c
      ON c.account_id = v.log_group_account_id AND c.region = v.log_group_region
     AND ((c.service = 'logs' AND v.broken_link >= 6) OR (c.service = 'cloudwatch' AND v.broken_link >= 9))
    WHERE v.verdict_rank = 1
    UNION ALL
    SELECT v.judged_control_id, v.judged_control_version, v.subject_account_id, c.service,
           c.account_id, c.region, c.status, c.error_code, c.last_success_at
    FROM verdict v
    JOIN cfgmon_collection c
      ON c.service = 'sns' AND c.account_id = SPLIT_PART(v.topic_arn, ':', 5)
     AND c.region = SPLIT_PART(v.topic_arn, ':', 4)
    WHERE v.verdict_rank = 1 AND v.broken_link >= 13
),

-- The oldest rows a verdict rests on (what `check --max-age` judges), and the oldest
-- rows kept from an earlier collection because the scope's latest one failed.
verdict_scope_age AS (
    SELECT vs.*,
           ROW_NUMBER() OVER (
               PARTITION BY vs.judged_control_id, vs.judged_control_version, vs.subject_account_id
               ORDER BY vs.last_success_at, vs.service, vs.account_id, vs.region) AS age_rank,
           ROW_NUMBER() OVER (
               PARTITION BY vs.judged_control_id, vs.judged_control_version, vs.subject_account_id
               ORDER BY CASE WHEN vs.status = 'error' THEN 0 ELSE 1 END, vs.last_success_at,
                        vs.service, vs.account_id, vs.region) AS stale_rank
    FROM verdict_scope vs
    WHERE vs.last_success_at IS NOT NULL
)

SELECT
    v.judged_control_id AS control_id,
    v.judged_control_version AS control_version,
    v.subject_account_id AS account_id,
    v.status,
    CASE
        WHEN v.organization_role = 'member' THEN
            'account ' || v.subject_account_id || ' is a member of organisation '
            || COALESCE(v.subject_organization_id, 'unknown') || '; this control applies to its '
            || 'management account ' || v.subject_management_account_id
        WHEN v.organization_role = 'outside' THEN
            'account ' || v.subject_account_id || ' is in no organisation; this control applies '
            || 'to the management account of an organisation'
        WHEN v.account_status <> 'ok' THEN
            'account ' || v.subject_account_id || ' could not be collected: '
            || COALESCE(v.account_error_code, 'error') || COALESCE(': ' || v.account_error_message, '')
        WHEN v.organization_role = 'unknown' THEN
            'the organisation of account ' || v.subject_account_id || ' could not be collected '
            || '(DescribeOrganization), so whether this control applies to it is unknown'
        WHEN v.broken_link = 15 THEN
            'trail ' || v.trail_arn || ' delivers to log group ' || v.log_group_arn
            || CASE WHEN v.own_covers_catalogue = TRUE OR v.seen_filters IS NULL
                    THEN ', whose metric filter ' || v.filter_name || ' covers all '
                    WHEN v.group_alarm_arn IS NOT NULL
                    THEN ', whose metric filters ' || v.seen_filters
                         || ', whose metrics its alarm reads, together cover all '
                    ELSE ', whose metric filters ' || v.seen_filters
                         || ', publishing one metric, together cover all ' END
            || CAST(v.events_total AS VARCHAR) || ' catalogue events; alarm ' || v.alarm_arn
            || COALESCE(', through composite alarm ' || v.via_alarm_arn || ',', '')
            || ' notifies SNS topic ' || v.topic_arn || ', which has '
            || CAST(v.confirmed_subscriptions AS VARCHAR) || ' confirmed subscription(s)'
            || CASE WHEN v.broader_than_reference = TRUE
                    THEN ' (the filter pattern is broader than the CIS reference pattern)' ELSE '' END
        WHEN v.status = 'INSUFFICIENT_DATA' AND v.data_missing = 0
         AND NOT (v.broken_link = 11 AND v.alarm_unsupported IS NOT NULL)
         AND NOT (v.broken_link = 14 AND v.topic_can_deliver IS NULL) THEN
            CASE
                WHEN v.trail_failed_region IS NOT NULL AND v.trail_failed_management IS NULL THEN
                    'CloudTrail could not be collected in ' || v.trail_failed_region
                    || COALESCE(' (' || COALESCE(v.trail_failed_operation || ': ', '')
                                || v.trail_failed_code || ')', '')
                    || ', so a trail there may be missing'
                WHEN v.trail_failed_region IS NOT NULL THEN
                    'CloudTrail of management account ' || v.trail_failed_management
                    || ' could not be collected in ' || v.trail_failed_region
                    || COALESCE(' (' || COALESCE(v.trail_failed_operation || ': ', '')
                                || v.trail_failed_code || ')', '')
                    || ', so an organisation trail that applies to account '
                    || v.subject_account_id || ' may be missing'
                ELSE
                    'management account ' || v.missing_management_account_id
                    || COALESCE(' of organisation ' || v.missing_management_organization_id, '')
                    || CASE WHEN v.missing_management_error_code IS NULL THEN ' was not collected'
                            ELSE ' could not be collected (' || v.missing_management_error_code || ')'
                       END
                    || ', so an organisation trail that applies to account '
                    || v.subject_account_id || ' may be missing'
            END
            || '; best chain found: '
            || CASE v.broken_link
                   WHEN 1 THEN 'no CloudTrail trail applies to the account'
                   WHEN 2 THEN 'trail ' || v.trail_arn || ' is not multi-region'
                   WHEN 3 THEN 'trail ' || v.trail_arn || ' is not logging'
                   WHEN 4 THEN 'trail ' || v.trail_arn || ' does not record all '
                               || v.event_noun
                   ELSE 'trail ' || v.trail_arn || ' does not deliver to CloudWatch Logs'
               END
        WHEN v.broken_link = 1 THEN
            'no CloudTrail trail applies to account ' || v.subject_account_id
        WHEN v.broken_link = 2 THEN
            'trail ' || v.trail_arn || ' is not multi-region'
        WHEN v.broken_link = 3 AND v.data_missing = 1 THEN
            'the logging status of trail ' || v.trail_arn || ' could not be collected'
        WHEN v.broken_link = 3 THEN
            'trail ' || v.trail_arn || ' is not logging'
        WHEN v.broken_link = 4 AND v.data_missing = 1 THEN
            'the event selectors of trail ' || v.trail_arn || ' could not be collected'
        WHEN v.broken_link = 4 THEN
            'trail ' || v.trail_arn || ' does not record all ' || v.event_noun
            || ': it misses ' || COALESCE(v.capture_missed_events, 'some catalogue records')
            || COALESCE(' (' || v.capture_missed_because || ')', '')
        WHEN v.broken_link = 5 THEN
            'trail ' || v.trail_arn || ' does not deliver to CloudWatch Logs'
        WHEN v.broken_link = 6 AND v.data_missing = 1 THEN
            'trail ' || v.trail_arn || ' delivers to log group ' || v.log_group_arn
            || ', but CloudWatch Logs of account ' || v.log_group_account_id || ' in '
            || v.log_group_region || ' was not collected'
            || COALESCE(CASE WHEN ls.status = 'error' THEN
                   ' (' || COALESCE(ls.error_operation || ': ', '') || ls.error_code || ')' END, '')
        WHEN v.broken_link = 6 THEN
            'trail ' || v.trail_arn || ' delivers to log group ' || v.log_group_arn
            || ', which does not exist'
        -- several filters seen together: the one whose pattern matches ordinary traffic
        WHEN v.broken_link = 7 AND v.covers_catalogue = TRUE AND v.seen_filters IS NOT NULL THEN
            'metric filters ' || v.seen_filters || ' on log group ' || v.log_group_arn
            || ' together cover all ' || CAST(v.event_count AS VARCHAR) || ' ' || v.event_noun
            || ', but filter ' || COALESCE(v.background_filter, v.filter_name)
            || ' also matches ordinary traffic (' || v.background_matched || '), so their '
            || 'alarm stays in ALARM and an event notifies no one'
        WHEN v.broken_link = 7 AND v.covers_catalogue = TRUE THEN
            'metric filter ' || v.filter_name || ' on log group ' || v.log_group_arn
            || ' covers all ' || CAST(v.event_count AS VARCHAR) || ' ' || v.event_noun
            || ', but also matches ordinary traffic (' || v.background_matched || '), so its '
            || 'alarm stays in ALARM and an event notifies no one'
        WHEN v.broken_link = 7 THEN
            'log group ' || v.log_group_arn
            || CASE
                   WHEN v.filter_name IS NULL THEN ' has no metric filters'
                   WHEN v.pattern_valid = FALSE THEN
                       ' has no metric filter covering all '
                       || CAST(v.event_count AS VARCHAR) || ' ' || v.event_noun
                       || '; closest, filter '
                       || v.filter_name || ', has an invalid pattern: '
                       || COALESCE(v.pattern_error, 'unknown error')
                   ELSE
                       ' has no metric filter covering all '
                       || CAST(v.event_count AS VARCHAR) || ' ' || v.event_noun
                       || CASE
                              -- a filter of another control is no one's closest (a
                              -- record matched in some of the account's regions only is
                              -- missed "(in ...)" the others: that filter is the closest)
                              WHEN COALESCE(v.events_matched, 0) = 0
                               AND COALESCE(v.missed_events, '') NOT LIKE '% (in %)' THEN
                                  '; none of its metric filters matches any of them (filter '
                                  || v.filter_name || ' among them)'
                              WHEN v.group_alarm_arn IS NOT NULL THEN
                                  '; closest, filters ' || v.seen_filters
                                  || ', whose metrics alarm ' || v.group_alarm_arn
                                  || ' reads, miss together '
                                  || COALESCE(v.missed_events, 'some catalogue events')
                              WHEN v.seen_filters IS NOT NULL THEN
                                  '; closest, filters ' || v.seen_filters
                                  || ', which publish one metric, miss together '
                                  || COALESCE(v.missed_events, 'some catalogue events')
                              ELSE
                                  '; closest, filter ' || v.filter_name || ', misses '
                                  || COALESCE(v.missed_events, 'some catalogue events')
                          END
               END
            -- the near miss a join on log group names alone would count: a covering
            -- filter on a log group the trail does not deliver to (covering_elsewhere)
            || COALESCE('; filter ' || ce.filter_name || ' on log group ' || ce.log_group_name
                        || ' in ' || ce.region || ' covers them, but the trail does not deliver there',
                        '')
        WHEN v.broken_link = 8 THEN
            'metric filter ' || v.filter_name || ' on log group ' || v.log_group_arn
            || ' publishes metric value ''' || COALESCE(v.metric_value, '') || ''', not a positive number'
        WHEN v.broken_link = 9 AND v.data_missing = 1 THEN
            'metric filter ' || v.filter_name || ' publishes ' || v.metric_namespace || '/'
            || v.metric_name || ', but CloudWatch alarms of account ' || v.log_group_account_id
            || ' in ' || v.log_group_region || ' were not collected'
            || COALESCE(CASE WHEN ls.status = 'error' THEN
                   ' (' || COALESCE(ls.error_operation || ': ', '') || ls.error_code || ')' END, '')
        WHEN v.broken_link = 9 THEN
            'no alarm in account ' || v.log_group_account_id || ' region ' || v.log_group_region
            || ' watches metric ' || v.metric_namespace || '/' || v.metric_name
            || ' of metric filter ' || v.filter_name
            -- the near miss regex-based tools count as a pass (metric_near_miss)
            || CASE WHEN nm.alarm_arn IS NULL THEN '' ELSE
                   '; closest: alarm ' || nm.alarm_arn
                   || CASE WHEN nm.account_id = v.log_group_account_id
                           THEN ' in the same account'
                           ELSE ' in account ' || nm.account_id || ' of the same organisation'
                      END
                   || ' watches ' || nm.namespace || '/' || nm.metric_name || ', but '
                   || CONCAT_WS(', ',
                          CASE WHEN nm.account_id <> v.log_group_account_id
                               THEN 'in account ' || nm.account_id || ', not '
                                    || v.log_group_account_id END,
                          CASE WHEN nm.region <> v.log_group_region
                               THEN 'in region ' || nm.region || ', not ' || v.log_group_region END,
                          CASE WHEN nm.namespace <> v.metric_namespace
                               THEN 'in namespace ' || nm.namespace || ', not '
                                    || v.metric_namespace END,
                          CASE WHEN nm.unit IS NOT NULL AND nm.unit <> COALESCE(v.metric_unit, 'None')
                               THEN 'with unit ' || nm.unit || ', not '
                                    || COALESCE(v.metric_unit, 'None') END,
                          CASE WHEN COALESCE(nmd.filter_dimensions, 0) <> COALESCE(nmc.dimensions, 0)
                                 OR COALESCE(nmd.disagreeing, 0) > 0
                               THEN 'on other dimensions than the filter publishes'
                                    || COALESCE(', such as ' || nmd.missed_dimension, '') END)
                   || ' (an alarm sees only metrics of its own account and region, with the'
                   || ' same namespace, dimensions and unit)'
               END
        WHEN v.broken_link = 10 THEN
            'alarm ' || v.alarm_arn || ' has its actions disabled'
        WHEN v.broken_link = 11 AND v.alarm_unsupported IS NOT NULL THEN
            'whether alarm ' || v.alarm_arn || ' goes into ALARM on a single event is unknown: '
            || v.alarm_why
        WHEN v.broken_link = 11 AND v.alarm_when_quiet = TRUE THEN
            'alarm ' || v.alarm_arn || ' is in ALARM without any event (' || v.alarm_why
            || '), so an event changes nothing and notifies no one'
        WHEN v.broken_link = 11 AND COALESCE(v.alarms_on_event, FALSE) = FALSE THEN
            'alarm ' || v.alarm_arn || ' does not go into ALARM on a single event ('
            || COALESCE(v.alarm_why, 'not judged') || ')'
        WHEN v.broken_link = 11 THEN
            'alarm ' || v.alarm_arn || ' never leaves ALARM after an event (' || v.alarm_why
            || '), so later events notify no one'
        WHEN v.broken_link = 12 THEN
            'alarm ' || v.alarm_arn || ' has no SNS topic among its ALARM actions'
        WHEN v.broken_link = 13 AND v.data_missing = 1 THEN
            'alarm ' || v.alarm_arn || COALESCE(', through composite alarm ' || v.via_alarm_arn || ',', '')
            || ' notifies SNS topic ' || v.topic_arn
            || ', whose account and region were not collected'
            || COALESCE(CASE WHEN ts.status = 'error' THEN
                   ' (' || COALESCE(ts.error_operation || ': ', '') || ts.error_code || ')' END, '')
        WHEN v.broken_link = 13 THEN
            'alarm ' || v.alarm_arn || COALESCE(', through composite alarm ' || v.via_alarm_arn || ',', '')
            || ' notifies SNS topic ' || v.topic_arn
            || ', which does not exist'
        -- (no working subscription at all is said below, in the words of version 1)
        WHEN v.broken_link = 14 AND v.topic_can_deliver = FALSE AND v.confirmed_subscriptions > 0 THEN
            'SNS topic ' || v.topic_arn || ' of alarm ' || v.alarm_arn
            || COALESCE(' (through composite alarm ' || v.via_alarm_arn || ')', '')
            || ' cannot deliver its notification: ' || v.topic_undeliverable_because
        WHEN v.broken_link = 14 AND v.topic_can_deliver IS NULL THEN
            'whether SNS topic ' || v.topic_arn || ' can deliver the notification of alarm '
            || v.alarm_arn || COALESCE(' (through composite alarm ' || v.via_alarm_arn || ')', '')
            || ' is unknown: ' || COALESCE(v.topic_undecided_because, 'not judged')
        ELSE
            'SNS topic ' || v.topic_arn || ' of alarm ' || v.alarm_arn
            || COALESCE(' (through composite alarm ' || v.via_alarm_arn || ')', '')
            || ' has no confirmed subscription'
            || CASE WHEN v.pending_subscriptions > 0
                    THEN ' (' || CAST(v.pending_subscriptions AS VARCHAR) || ' pending confirmation)'
                    ELSE '' END
            || CASE WHEN v.filtered_out_subscriptions > 0
                    THEN ' that receives alarm notifications ('
                         || CAST(v.filtered_out_subscriptions AS VARCHAR)
                         || ' filtered out by a filter policy: '
                         || COALESCE(v.filtered_out_example, 'no alarm notification matches') || ')'
                    ELSE '' END
    END
    -- a link decided by rows an earlier run stored, because the latest fetch failed
    -- (a verdict that does not rest on the chain, NOT_APPLICABLE or for want of the
    -- organisation, takes neither suffix)
    || CASE WHEN COALESCE(v.organization_role, 'management') <> 'management' THEN ''
            WHEN v.data_missing = 1 AND v.broken_link IN (7, 8, 10, 11, 12, 14) THEN
           COALESCE(', but only from an earlier collection: the latest collection of '
                    || ls.service || ' in account ' || ls.account_id || ' region ' || ls.region
                    || ' failed (' || COALESCE(ls.error_operation || ': ', '')
                    || COALESCE(ls.error_code, 'error') || ')', '')
       -- any other verdict that rests on rows kept from an earlier collection says when
       -- they were collected and why they were not renewed
       WHEN v.account_status = 'ok' AND v.data_missing = 0 AND stale.subject_account_id IS NOT NULL THEN
           ' (as collected at ' || CAST(DATE_TRUNC('second', stale.last_success_at) AS VARCHAR)
           || ' UTC; the latest collection of ' || stale.service || ' in ' || stale.region
           || ' failed: ' || COALESCE(stale.error_code, 'error') || ')'
       ELSE '' END AS reason,
    CASE
        WHEN v.account_status <> 'ok' OR v.broken_link = 1 THEN 'AWS::::Account:' || v.subject_account_id
        WHEN v.broken_link <= 5 THEN v.trail_arn
        WHEN v.broken_link <= 8 THEN v.log_group_arn
        WHEN v.broken_link <= 12 AND v.alarm_arn IS NULL THEN v.log_group_arn
        WHEN v.broken_link <= 12 THEN v.alarm_arn
        WHEN v.broken_link <= 14 THEN v.topic_arn
        ELSE v.alarm_arn
    END AS resource,
    v.broken_link AS evidence_broken_link,
    v.trail_arn AS evidence_trail_arn,
    v.home_region AS evidence_trail_home_region,
    -- shown, not judged: AWS keeps the last error even after delivery recovers
    v.latest_cloud_watch_logs_delivery_error AS evidence_cloudwatch_logs_delivery_error,
    v.log_group_arn AS evidence_log_group_arn,
    v.filter_name AS evidence_metric_filter_name,
    v.filter_pattern AS evidence_filter_pattern,
    v.events_matched AS evidence_events_matched,
    v.events_total AS evidence_events_total,
    v.missed_events AS evidence_missed_events,
    v.broader_than_reference AS evidence_pattern_broader_than_reference,
    v.background_matched AS evidence_pattern_matches_ordinary_traffic,
    -- the filter whose pattern matches it (of several seen together, maybe another)
    CASE WHEN v.background_matched IS NOT NULL THEN COALESCE(v.background_filter, v.filter_name)
    END AS evidence_ordinary_traffic_filter_name,
    v.metric_namespace AS evidence_metric_namespace,
    v.metric_name AS evidence_metric_name,
    v.metric_value AS evidence_metric_value,
    v.alarm_arn AS evidence_alarm_arn,
    v.via_alarm_arn AS evidence_composite_alarm_arn,
    v.alarm_why AS evidence_alarm_response,
    v.topic_arn AS evidence_topic_arn,
    v.subscription_arn AS evidence_subscription_arn,
    v.topic_kms_key_arn AS evidence_topic_kms_key,
    COALESCE(v.topic_undeliverable_because, v.topic_undecided_because) AS evidence_topic_delivery,
    v.confirmed_subscriptions AS evidence_confirmed_subscriptions,
    v.pending_subscriptions AS evidence_pending_subscriptions,
    oldest.last_success_at AS evidence_collected_at,
    CASE WHEN oldest.subject_account_id IS NOT NULL THEN
        oldest.service || ' in account ' || oldest.account_id || ' region ' || oldest.region
    END AS evidence_collected_scope,
    stale.last_success_at AS evidence_stale_since,
    CASE WHEN stale.subject_account_id IS NOT NULL THEN
        stale.service || ' in account ' || stale.account_id || ' region ' || stale.region
    END AS evidence_stale_scope
FROM verdict v
LEFT JOIN metric_near_miss nm
  ON nm.judged_control_id = v.judged_control_id AND nm.judged_control_version = v.judged_control_version
 AND nm.subject_account_id = v.subject_account_id
LEFT JOIN near_miss_dimension nmd
  ON nmd.judged_control_id = v.judged_control_id AND nmd.judged_control_version = v.judged_control_version
 AND nmd.subject_account_id = v.subject_account_id
LEFT JOIN alarm_dimension_count nmc
  ON nmc.account_id = nm.account_id AND nmc.region = nm.region AND nmc.alarm_arn = nm.alarm_arn
 AND nmc.metric_id = nm.metric_id
LEFT JOIN covering_elsewhere ce
  ON ce.judged_control_id = v.judged_control_id AND ce.judged_control_version = v.judged_control_version
 AND ce.subject_account_id = v.subject_account_id
-- the collected scope of the broken link (one row per account, region and service)
LEFT JOIN cfgmon_collection ls
  ON ls.service = v.link_service AND ls.account_id = v.link_account_id AND ls.region = v.link_region
-- a missing topic's scope, by its ARN (arn:partition:sns:region:account:name)
LEFT JOIN cfgmon_collection ts
  ON v.broken_link = 13 AND ts.service = 'sns'
 AND ts.account_id = SPLIT_PART(v.topic_arn, ':', 5) AND ts.region = SPLIT_PART(v.topic_arn, ':', 4)
LEFT JOIN verdict_scope_age oldest
  ON oldest.judged_control_id = v.judged_control_id AND oldest.judged_control_version = v.judged_control_version
 AND oldest.subject_account_id = v.subject_account_id AND oldest.age_rank = 1
LEFT JOIN verdict_scope_age stale
  ON stale.judged_control_id = v.judged_control_id AND stale.judged_control_version = v.judged_control_version
 AND stale.subject_account_id = v.subject_account_id AND stale.stale_rank = 1
 AND stale.status = 'error'
WHERE v.verdict_rank = 1
ORDER BY v.judged_control_id, v.judged_control_version, v.subject_account_id
