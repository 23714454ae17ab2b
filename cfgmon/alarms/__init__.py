"""CloudWatch alarms as AWS evaluates them: metric math, one event and quiet, composite rules.

    from cfgmon.alarms import parse_expression, parse_alarm_rule, judge_alarm, AlarmSpec

    parse_expression("FILL(m1, 0) >= 1")      # Expression; ExpressionError(message, column)
    parse_alarm_rule('ALARM("cis-root") OR OK(x)')   # AlarmRule; AlarmRuleError(message, column)
    judge_alarm(spec, fed, event_value, default_value)  # AlarmResponse

The behaviour is docs/alarm-evaluation.md; rules AWS leaves open are in decisions.py.
This package knows nothing about AWS APIs, SQL or the CLI.
"""

from cfgmon.alarms.errors import AlarmRuleError, ExpressionError
from cfgmon.alarms.judge import AlarmResponse, AlarmSpec, MetricQuery, judge_alarm
from cfgmon.alarms.nodes import Expression
from cfgmon.alarms.parser import parse_expression
from cfgmon.alarms.rules import AlarmRule, parse_alarm_rule

__all__ = [
    "AlarmResponse",
    "AlarmRule",
    "AlarmRuleError",
    "AlarmSpec",
    "Expression",
    "ExpressionError",
    "MetricQuery",
    "judge_alarm",
    "parse_alarm_rule",
    "parse_expression",
]
