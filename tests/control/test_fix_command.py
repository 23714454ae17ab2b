"""`cfgmon fix`: the commands and Terraform that repair each NON_COMPLIANT result, in the
account's own names, quoted for the shell and escaped for HCL."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import hcl2
import pytest

from cfgmon.remediation import aws_cli, terraform
from cfgmon.remediation.plan import ApiCall, Plan, Step

from .conftest import CONTROL


@pytest.fixture
def checked(db, cli) -> str:
    """The audited accounts with one stored run of the AWS Config control."""
    assert cli("check", "--db", db, "--control", CONTROL).exit_code == 1
    return db


def _commands(text: str) -> list[list[str]]:
    """What a shell running `text` passes to `aws`, command by command: bash runs it with
    `aws` standing for a program that prints its arguments."""
    stand_in = f"aws() {{ {sys.executable} -c 'import json, sys; print(json.dumps([\"aws\", *sys.argv[1:]]))' \"$@\"; }}"
    done = subprocess.run(["bash", "-c", f"{stand_in}\n{text}"], capture_output=True, text=True,
                          timeout=60, cwd="/")
    assert done.returncode == 0 and not done.stderr, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_fix_prints_the_commands_of_each_failing_account(checked, cli):
    result = cli("fix", "--db", checked)
    assert result.exit_code == 0, result.stderr
    commands = _commands(result.stdout)
    # 222222222222: an alarm needing three events; 333333333333: a topic nobody subscribed to
    alarm = next(c for c in commands if c[:3] == ["aws", "cloudwatch", "put-metric-alarm"])
    assert alarm[alarm.index("--alarm-name") + 1] == "cis-config-changes"
    assert alarm[alarm.index("--threshold") + 1] == "1"
    assert alarm[alarm.index("--region") + 1] == "us-east-1"
    subscribe = next(c for c in commands if c[:3] == ["aws", "sns", "subscribe"])
    assert subscribe[subscribe.index("--topic-arn") + 1] == \
        "arn:aws:sns:eu-west-1:333333333333:cis-alerts"
    # the offending setting is named
    assert "Threshold 3 -> 1" in result.stdout
    assert "123456789012" not in result.stdout      # the compliant account needs nothing
    assert "review them before applying" in result.stderr


def test_fix_narrows_to_one_account_and_writes_terraform(checked, cli):
    result = cli("fix", "--db", checked, "--account", "222222222222", "--format", "terraform")
    assert result.exit_code == 0, result.stderr
    parsed = hcl2.loads(result.stdout)
    (provider,) = parsed["provider"]
    assert provider['"aws"']["allowed_account_ids"] == ['"222222222222"']
    (resource,) = parsed["resource"]
    alarm = resource['"aws_cloudwatch_metric_alarm"']['"cis_config_changes_222222222222"']
    assert alarm["alarm_name"] == '"cis-config-changes"'
    assert alarm["threshold"] == 1
    assert alarm["comparison_operator"] == '"GreaterThanOrEqualToThreshold"'
    assert alarm["alarm_actions"] == ['"arn:aws:sns:us-east-1:222222222222:cis-alerts"']
    assert alarm["provider"] == "${aws.a222222222222_us_east_1}"
    # the alarm exists: Terraform adopts it rather than creating a second one
    (adopt,) = parsed["import"]
    assert adopt["id"] == '"cis-config-changes"'
    assert "333333333333" not in result.stdout


def test_fix_refuses_what_the_run_does_not_have(checked, cli, tmp_path):
    unknown = cli("fix", "--db", checked, "--account", "999999999999")
    assert (unknown.exit_code, unknown.stderr) == (
        2, "cfgmon: error: no result for account 999999999999 in this run\n")
    bad_format = cli("fix", "--db", checked, "--format", "yaml")
    assert bad_format.exit_code == 2
    assert bad_format.stderr.startswith("cfgmon: error: unknown format 'yaml'")


def test_fix_needs_a_stored_run(db, cli):
    result = cli("fix", "--db", db)
    assert (result.exit_code, result.stderr) == (
        2, "cfgmon: error: no stored runs yet: run cfgmon check first\n")


def test_nothing_to_fix_says_so(checked, cli):
    result = cli("fix", "--db", checked, "--account", "123456789012")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.startswith("nothing to fix")


# -- user data in names and patterns ---------------------------------------------------

HOSTILE = "cis'; rm -rf ~ #\n$(touch x) ${var.secret} %{ if true }\"\\"


def _hostile_plan() -> Plan:
    call = ApiCall("logs", "PutMetricFilter", {
        "logGroupName": HOSTILE, "filterName": HOSTILE, "filterPattern": HOSTILE,
        "metricTransformations": [{"metricName": HOSTILE, "metricNamespace": "CISBenchmark",
                                   "metricValue": "1"}],
    }, "111111111111", "us-east-1")
    return Plan(CONTROL, "111111111111", 7, f"reason naming {HOSTILE}",
                (Step("filter", f"correct {HOSTILE}", call, existing=True),), (HOSTILE,))


def test_cli_values_are_shell_quoted_and_comments_stay_comments():
    text = aws_cli.render_plan(_hostile_plan())
    (command,) = _commands(text)      # one command: nothing in a value or a comment ran
    assert command[command.index("--filter-pattern") + 1] == HOSTILE
    assert command[command.index("--log-group-name") + 1] == HOSTILE
    # the title, reason and note naming it are comments of one line each
    assert sum(line.startswith("# ") for line in text.splitlines()) == 3


def test_terraform_strings_are_escaped():
    text = terraform.render_plans([_hostile_plan()])
    parsed = hcl2.loads(text)     # a string that broke out would not parse, or add attributes
    (resource,) = parsed["resource"]
    (block,) = resource['"aws_cloudwatch_log_metric_filter"'].values()
    assert {k for k in block if not k.startswith("__")} == {"provider", "name", "log_group_name", "pattern",
                          "metric_transformation"}
    assert block["pattern"] == terraform.hcl_string(HOSTILE)
    # no template sequence survives unescaped: `${` and `%{` are written `$${` and `%%{`
    assert not re.search(r"(?<!\$)\$\{var", block["pattern"])
    assert not re.search(r"(?<!%)%\{ if", block["pattern"])
    assert "\n" not in block["pattern"]
    assert not any(line.startswith("$(touch") for line in text.splitlines())   # comments stay whole
