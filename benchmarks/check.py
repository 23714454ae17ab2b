"""Benchmark: `cfgmon check` over a large synthetic inventory.

    .venv/bin/python benchmarks/check.py [--accounts 2000] [--regions 17]
        [--filters 100000] [--patterns 5000] [--alarms 100000] [--subscriptions 50000]
        [--db PATH] [--profile]

Writes the inventory straight into DuckDB with bulk SQL (range() inserts; the
distinct patterns go in as one list parameter), then runs `cfgmon check` in a
subprocess, exactly as a user would, and prints its wall time and peak memory
(the child's ru_maxrss: DuckDB allocates natively, so tracemalloc would miss most
of it). --profile also times the stages of the check in this process.

The inventory: every account collected in every region (all scopes ok but a few
failed); half the accounts in an organisation whose management account has an
organisation trail; each account a multi-region trail into a log group holding
15 metric filters (CIS-style) and the rest of its filters on other log groups;
one alarm per filter, most notifying the account's SNS topic in that region.
Patterns are mostly CIS-like variants (spacing, quoting, order, wildcards, extra
events), some narrower (an event name missing), some invalid.

Target: the check of the whole family (every latest control) within 10 s and under
3 GiB peak memory on a 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cfgmon.controls import latest_versions  # noqa: E402
from cfgmon.store import open_database  # noqa: E402

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
]
WATCHED = ["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
           "PutConfigurationRecorder"]
EXTRA = ["DeleteConfigurationRecorder", "StartConfigurationRecorder", "PutConfigRule",
         "DeleteConfigRule", "PutEvaluations", "PutRetentionConfiguration",
         "DeleteRetentionConfiguration", "PutConformancePack", "DeleteConformancePack",
         "PutAggregationAuthorization"]
FILTERS_ON_TRAIL_GROUP = 15  # the CIS section 4 filters all sit on the trail's log group
T0 = "TIMESTAMP '2026-01-01 00:00:00'"


# -- patterns -------------------------------------------------------------------------


def _quote(name: str, style: int) -> str:
    return f'"{name}"' if style else name


def cis_variant(names: tuple[str, ...], quoted: int, space: str, parens: bool, extra: str | None,
                wildcard: bool, source_last: bool) -> str:
    """The CIS pattern's shape over `names` (all four watched events, or fewer: narrower)."""
    names = list(names) + ([extra] if extra else [])
    if wildcard:  # "*DeliveryChannel" covers both channel events
        names = [n for n in names if not n.endswith("DeliveryChannel")] + ["*DeliveryChannel"]
    clauses = [f"$.eventName{space}={space}{_quote(n, quoted)}" for n in names]
    if parens:
        clauses = [f"({c})" for c in clauses]
    source = f"($.eventSource{space}={space}{_quote('config.amazonaws.com', quoted)})"
    events = f"({' || '.join(clauses)})"
    return "{ " + (f"{events} && {source}" if source_last else f"{source} && {events}") + " }"


def invalid(n: int) -> str:
    broken = [
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName = PutDeliveryChannel) }",
        "{ $.eventSource == config.amazonaws.com && $.eventName = StopConfigurationRecorder }",
        "{ ($.eventSource = config.amazonaws.com) && ($.eventName = ) }",
        "{ $.eventName = StopConfigurationRecorder ||| $.eventName = PutDeliveryChannel }",
    ]
    return broken[n % len(broken)] + " " * (n // len(broken))  # trailing spaces keep them distinct


def make_patterns(count: int, seed: int = 7) -> list[str]:
    """`count` distinct patterns: ~85% CIS-like variants, ~12% narrower, ~3% invalid."""
    rng = random.Random(seed)
    shapes = list(itertools.product((0, 1), (" ", "", "  "), (True, False), (None, *EXTRA)))
    variants = list(dict.fromkeys(
        cis_variant(order, quoted, space, parens, extra, wildcard, source_last)
        for order in itertools.permutations(WATCHED)
        for quoted, space, parens, extra in shapes
        for wildcard in (False, True)
        for source_last in (False, True)
    ))
    narrow = list(dict.fromkeys(
        cis_variant(order, quoted, space, parens, extra, False, False)
        for order in itertools.permutations(WATCHED, 3)
        for quoted, space, parens, extra in shapes
    ))
    rng.shuffle(variants)
    rng.shuffle(narrow)
    n_invalid = max(1, count * 3 // 100)
    n_narrow = min(len(narrow), count * 12 // 100)
    chosen = variants[: count - n_narrow - n_invalid] + narrow[:n_narrow]
    chosen += [invalid(i) for i in range(n_invalid)]
    assert len(set(chosen)) == count, "patterns must be distinct"
    return chosen


# -- the inventory ---------------------------------------------------------------------


def build(db: Path, *, accounts: int, regions: int, filters: int, patterns: int, alarms: int,
          subscriptions: int) -> dict[str, int]:
    for suffix in ("", ".wal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    con = open_database(db)
    region_list = REGIONS[:regions]
    per_account = max(filters // accounts, FILTERS_ON_TRAIL_GROUP + 1)
    params = {
        "accounts": accounts, "nregions": regions, "filters": filters, "npatterns": patterns,
        "alarms": alarms, "subscriptions": subscriptions, "per_account": per_account,
        "on_trail": FILTERS_ON_TRAIL_GROUP, "org": accounts // 2,
    }

    def run(sql: str, *args) -> None:
        for name, value in params.items():
            sql = sql.replace(f"${name}", str(value))
        con.execute(sql, list(args))

    con.execute("BEGIN TRANSACTION")
    run("CREATE TEMP TABLE region_name AS SELECT i - 1 AS r, ?[i] AS name "
        "FROM range(1, $nregions + 1) t(i)", region_list)
    run("CREATE TEMP TABLE pattern AS SELECT i - 1 AS p, ?[i] AS text "
        "FROM range(1, $npatterns + 1) t(i)", make_patterns(patterns))
    # Account a is '1000000000' + a, zero-padded; account 0 manages the organisation.
    run("CREATE TEMP TABLE account AS SELECT a, lpad(CAST(100000000000 + a AS VARCHAR), 12, '0') AS id "
        "FROM range($accounts) t(a)")
    run(f"""
        INSERT INTO cfgmon_account (account_id, collected_at, source, status, organization_id,
                                    management_account_id)
        SELECT id, {T0}, CASE WHEN a = 0 THEN 'caller' ELSE 'organization' END, 'ok',
               CASE WHEN a < $org THEN 'o-benchmark' END,
               CASE WHEN a < $org THEN (SELECT id FROM account WHERE a = 0) END
        FROM account""")
    run(f"""
        INSERT INTO cfgmon_collection (account_id, region, service, started_at, finished_at,
                                       status, error_code, api_calls, rows_written, last_success_at)
        SELECT ac.id, rn.name, s.service, {T0}, {T0},
               CASE WHEN hash(ac.a, rn.r, s.service) % 500 = 0 THEN 'error' ELSE 'ok' END,
               CASE WHEN hash(ac.a, rn.r, s.service) % 500 = 0 THEN 'ThrottlingException' END,
               2, 10, {T0}
        FROM account ac, region_name rn,
             (VALUES ('cloudtrail'), ('logs'), ('cloudwatch'), ('sns')) s(service)""")
    # The regions each account lists, as collect keeps DescribeRegions' answer: the
    # collected ones enabled, the opt-in regions not.
    run(f"""
        INSERT INTO cfgmon_account_region (account_id, region, opt_in_status, listed_at)
        SELECT ac.id, rn.name, 'opt-in-not-required', {T0} FROM account ac, region_name rn
        UNION ALL
        SELECT ac.id, o.name, 'not-opted-in', {T0} FROM account ac,
               (VALUES ('af-south-1'), ('ap-east-1'), ('me-south-1'), ('eu-south-1')) o(name)""")
    # One multi-region trail per account (some stopped, some single-region, a few
    # without CloudWatch Logs); account 0's is the organisation trail.
    run(f"""
        INSERT INTO aws_cloudtrail_trail (account_id, region, collected_at, arn, name,
            owner_account_id, home_region, is_multi_region_trail, is_organization_trail,
            include_global_service_events, s3_bucket_name, cloud_watch_logs_log_group_arn,
            cloud_watch_logs_role_arn, log_group_account_id, log_group_region, log_group_name,
            has_custom_event_selectors, is_logging, event_selectors_collected, raw)
        SELECT id, 'us-east-1', {T0}, 'arn:aws:cloudtrail:us-east-1:' || id || ':trail/main',
               'main', id, 'us-east-1', hash(a, 'multi') % 20 <> 0, a = 0, TRUE,
               'trail-' || id,
               CASE WHEN hash(a, 'cwl') % 50 <> 0
                    THEN 'arn:aws:logs:us-east-1:' || id || ':log-group:cloudtrail-logs:*' END,
               'arn:aws:iam::' || id || ':role/trail-to-logs',
               CASE WHEN hash(a, 'cwl') % 50 <> 0 THEN id END,
               CASE WHEN hash(a, 'cwl') % 50 <> 0 THEN 'us-east-1' END,
               CASE WHEN hash(a, 'cwl') % 50 <> 0 THEN 'cloudtrail-logs' END,
               hash(a, 'sel') % 10 = 0, hash(a, 'logging') % 10 <> 0, TRUE, '{{}}'
        FROM account""")
    run(f"""
        INSERT INTO aws_cloudtrail_trail_event_selector (account_id, region, collected_at,
            trail_arn, selector_index, read_write_type, include_management_events)
        SELECT id, 'us-east-1', {T0}, 'arn:aws:cloudtrail:us-east-1:' || id || ':trail/main', 0,
               CASE WHEN hash(a, 'rw') % 4 = 0 THEN 'WriteOnly' ELSE 'All' END, TRUE
        FROM account WHERE hash(a, 'sel') % 10 = 0""")
    # Two log groups per account and region: the trail's and an application's.
    run(f"""
        INSERT INTO aws_cloudwatch_log_group (account_id, region, collected_at, arn, name,
            creation_time, retention_in_days, stored_bytes, metric_filter_count, raw)
        SELECT ac.id, rn.name, {T0},
               'arn:aws:logs:' || rn.name || ':' || ac.id || ':log-group:' || g.name, g.name,
               {T0}, 365, 1024, 0, '{{}}'
        FROM account ac, region_name rn, (VALUES ('cloudtrail-logs'), ('app-logs')) g(name)""")
    # Filters: the first 15 of each account on its trail log group, the rest spread
    # over the application log groups of the other regions.
    run("""
        CREATE TEMP TABLE filter_plan AS
        SELECT f, f // $per_account AS a, f % $per_account AS k,
               CASE WHEN f % $per_account < $on_trail THEN 0
                    ELSE 1 + (f % $per_account) % ($nregions - 1) END AS r,
               CASE WHEN f % $per_account < $on_trail THEN 'cloudtrail-logs' ELSE 'app-logs' END
                   AS log_group,
               hash(f, 'pattern') % $npatterns AS p
        FROM range($filters) t(f)
        WHERE f // $per_account < $accounts""")
    run(f"""
        INSERT INTO aws_cloudwatch_log_metric_filter (account_id, region, collected_at, name,
            log_group_name, filter_pattern, creation_time, metric_transformation_name,
            metric_transformation_namespace, metric_transformation_value,
            metric_transformation_dimensions, apply_on_transformed_logs, raw)
        SELECT ac.id, rn.name, {T0}, 'filter-' || fp.k, fp.log_group, pt.text, {T0},
               'metric-' || fp.k, 'CISBenchmark',
               CASE WHEN hash(fp.f, 'value') % 100 = 0 THEN '$.count' ELSE '1' END,
               CASE WHEN hash(fp.f, 'dim') % 50 = 0 THEN '{{"source": "$.eventSource"}}' ELSE '{{}}' END,
               FALSE, '{{}}'
        FROM filter_plan fp JOIN account ac USING (a) JOIN region_name rn USING (r)
        JOIN pattern pt USING (p)""")
    run(f"""
        INSERT INTO aws_cloudwatch_log_metric_filter_dimension (account_id, region,
            collected_at, log_group_name, filter_name, dimension_name, value_selector)
        SELECT ac.id, rn.name, {T0}, fp.log_group, 'filter-' || fp.k, 'source', '$.eventSource'
        FROM filter_plan fp JOIN account ac USING (a) JOIN region_name rn USING (r)
        WHERE hash(fp.f, 'dim') % 50 = 0""")
    # One alarm per filter (the first `alarms` filters), a few on nothing a filter publishes.
    run("""
        CREATE TEMP TABLE alarm_plan AS
        SELECT fp.*, ac.id AS account_id, rn.name AS region,
               'arn:aws:cloudwatch:' || rn.name || ':' || ac.id || ':alarm:alarm-' || fp.k AS arn
        FROM filter_plan fp JOIN account ac USING (a) JOIN region_name rn USING (r)
        WHERE fp.f < $alarms""")
    run(f"""
        INSERT INTO aws_cloudwatch_alarm (account_id, region, collected_at, arn, name,
            alarm_type, actions_enabled, state_value, metric_name, namespace, statistic, period,
            evaluation_periods, datapoints_to_alarm, threshold, comparison_operator,
            treat_missing_data, dimensions, raw)
        SELECT account_id, region, {T0}, arn, 'alarm-' || k, 'MetricAlarm',
               hash(f, 'enabled') % 20 <> 0, 'OK',
               CASE WHEN hash(f, 'orphan') % 25 = 0 THEN 'elsewhere-' || k ELSE 'metric-' || k END,
               'CISBenchmark', 'Sum', 300, 1, 1,
               CASE WHEN hash(f, 'threshold') % 30 = 0 THEN 5 ELSE 1 END,
               'GreaterThanOrEqualToThreshold', 'notBreaching', '[]', '{{}}'
        FROM alarm_plan""")
    run(f"""
        INSERT INTO aws_cloudwatch_alarm_dimension (account_id, region, collected_at, alarm_arn,
            name, value)
        SELECT account_id, region, {T0}, arn, 'source', 'config.amazonaws.com'
        FROM alarm_plan WHERE hash(f, 'dim') % 50 = 0""")
    run(f"""
        INSERT INTO aws_cloudwatch_alarm_action (account_id, region, collected_at, alarm_arn,
            action_type, action_index, action_arn)
        SELECT account_id, region, {T0}, arn, 'ALARM', 0,
               'arn:aws:sns:' || region || ':' || account_id || ':security-alerts'
        FROM alarm_plan WHERE hash(f, 'action') % 40 <> 0""")
    # One topic per account and region; subscriptions spread over them, some pending.
    run(f"""
        INSERT INTO aws_sns_topic (account_id, region, collected_at, topic_arn, name, raw)
        SELECT ac.id, rn.name, {T0},
               'arn:aws:sns:' || rn.name || ':' || ac.id || ':security-alerts', 'security-alerts',
               '{{}}'
        FROM account ac, region_name rn""")
    run(f"""
        INSERT INTO aws_sns_topic_subscription (account_id, region, collected_at,
            subscription_arn, topic_arn, owner, protocol, endpoint, pending_confirmation, raw)
        SELECT ac.id, rn.name, {T0},
               CASE WHEN s % 10 = 0 THEN 'PendingConfirmation'
                    ELSE 'arn:aws:sns:' || rn.name || ':' || ac.id || ':security-alerts:' || s END,
               'arn:aws:sns:' || rn.name || ':' || ac.id || ':security-alerts', ac.id, 'email',
               'security+' || s || '@example.com', s % 10 = 0, '{{}}'
        FROM range($subscriptions) t(s)
        JOIN account ac ON ac.a = hash(s, 'acct') % $accounts
        JOIN region_name rn ON rn.r = hash(s, 'region') % $nregions""")
    # GetTopicAttributes with AWS's default topic policy, and every subscription as
    # ListSubscriptionsByTopic and GetSubscriptionAttributes give it
    run(f"""
        INSERT INTO aws_sns_topic_attributes (account_id, region, collected_at, topic_arn, owner,
            policy, subscriptions_confirmed, subscriptions_pending, raw)
        SELECT t.account_id, t.region, {T0}, t.topic_arn, t.account_id,
               json_object('Version', '2008-10-17', 'Statement', json_array(json_object(
                   'Sid', '__default_statement_ID', 'Effect', 'Allow',
                   'Principal', json_object('AWS', '*'),
                   'Action', json_array('SNS:GetTopicAttributes', 'SNS:SetTopicAttributes',
                                        'SNS:AddPermission', 'SNS:RemovePermission',
                                        'SNS:DeleteTopic', 'SNS:Subscribe',
                                        'SNS:ListSubscriptionsByTopic', 'SNS:Publish'),
                   'Resource', t.topic_arn,
                   'Condition', json_object('StringEquals',
                                            json_object('AWS:SourceOwner', t.account_id))))),
               0, 0, '{{}}'
        FROM aws_sns_topic t""")
    run(f"""
        INSERT INTO aws_sns_topic_subscription_attributes (account_id, region, collected_at,
            topic_arn, subscription_arn, owner, protocol, endpoint, pending_confirmation, raw)
        SELECT account_id, region, {T0}, topic_arn, subscription_arn, owner, protocol, endpoint,
               pending_confirmation, '{{}}'
        FROM aws_sns_topic_subscription""")
    con.execute("COMMIT")
    counts = {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("cfgmon_account", "cfgmon_account_region", "cfgmon_collection",
                      "aws_cloudtrail_trail",
                      "aws_cloudwatch_log_group", "aws_cloudwatch_log_metric_filter",
                      "aws_cloudwatch_alarm", "aws_cloudwatch_alarm_action", "aws_sns_topic",
                      "aws_sns_topic_subscription", "aws_sns_topic_attributes",
                      "aws_sns_topic_subscription_attributes")
    }
    counts["distinct patterns"] = con.execute(
        "SELECT count(DISTINCT filter_pattern) FROM aws_cloudwatch_log_metric_filter"
    ).fetchone()[0]
    con.close()
    return counts


# -- running the check --------------------------------------------------------------------

CHILD = """
import sys
from cfgmon.cli import script   # what the `cfgmon` script runs
sys.exit(script())
"""


def run_check(db: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    """`cfgmon check` in a child process: (wall seconds, peak RSS bytes, the result)."""
    args = [sys.executable, "-c", CHILD, "check", "--db", str(db), "--format", "json",
            "--output", str(db.with_suffix(".json")), "--exit-zero"]
    began = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return wall, peak_kib * 1024, result


def profile_stages(db: Path) -> None:
    """Time derive, the query of each run group and recording results, in this process."""
    from cfgmon.controls.coverage import PatternBook, derive_many
    from cfgmon.controls.runner import _run_group, record_results, run_groups
    from cfgmon.controls.topic_delivery import derive_topic_delivery
    from cfgmon.store.database import utc_now

    con = open_database(db)
    try:
        began = time.perf_counter()
        topics = derive_topic_delivery(con)
        print(f"  topic delivery: {topics:,} topics and publishers in "
              f"{time.perf_counter() - began:.2f} s")
        book = PatternBook()
        for group in run_groups(latest_versions()):
            began = time.perf_counter()
            counts = derive_many(con, [(v, v.event_set()) for v in group], book)
            derived = time.perf_counter()
            by_ref = _run_group(con, group, "profile", utc_now(), None)
            ran = time.perf_counter()
            results = [r for rows in by_ref.values() for r in rows]
            record_results(con, results)
            recorded = time.perf_counter()
            name = group[0].chain if group[0].judged_together else group[0].ref
            print(f"  {name} ({len(group)} controls): derive {derived - began:.2f} s "
                  f"({counts['patterns']:,} patterns, {counts['expressions']:,} expressions), "
                  f"query {ran - derived:.2f} s, "
                  f"recording {len(results):,} results {recorded - ran:.2f} s")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=17)
    parser.add_argument("--filters", type=int, default=100_000)
    parser.add_argument("--patterns", type=int, default=5000)
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--subscriptions", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="where to build the inventory (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="also time the check's stages")
    options = parser.parse_args()
    if not 1 <= options.regions <= len(REGIONS):
        parser.error(f"--regions must be 1..{len(REGIONS)}")

    with tempfile.TemporaryDirectory() as tmp:
        db = options.db or Path(tmp) / "benchmark.duckdb"
        began = time.perf_counter()
        counts = build(db, accounts=options.accounts, regions=options.regions,
                       filters=options.filters, patterns=options.patterns,
                       alarms=options.alarms, subscriptions=options.subscriptions)
        built = time.perf_counter() - began
        print(f"inventory built in {built:.1f} s:")
        for name, count in counts.items():
            print(f"  {name}: {count:,}")

        wall, peak, result = run_check(db)
        if result.returncode != 0:
            sys.exit(f"cfgmon check failed ({result.returncode}):\n{result.stderr}")
        controls = len(latest_versions())
        print(f"cfgmon check ({controls} controls): {wall:.2f} s wall, peak memory "
              f"{peak / 2**20:,.0f} MiB (target for the whole family: <= 10 s, < 3072 MiB)")
        con = open_database(db, read_only=True)
        verdicts = con.execute(
            "SELECT status, count(*) FROM cfgmon_check_result GROUP BY status ORDER BY status"
        ).fetchall()
        con.close()
        print("  verdicts: " + ", ".join(f"{status} {count:,}" for status, count in verdicts))
        if options.profile:
            print("stages (in this process):")
            profile_stages(db)


if __name__ == "__main__":
    main()
