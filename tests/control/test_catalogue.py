"""The control catalogue: metadata, versions, SQL validity and the event catalogue."""

from __future__ import annotations

import pytest
import sqlglot

from cfgmon.controls import load_catalogue, resolve
from cfgmon.controls.catalogue import ControlVersion, validate_sql
from cfgmon.errors import ControlError
from cfgmon.patterns import LogEvent, compile_pattern

# These tests are about one control; `check` alone runs the whole family.
CONFIG_CONTROL = "config_configuration_changes_monitoring"

CONTROL = "config_configuration_changes_monitoring"


@pytest.fixture(scope="module")
def v1() -> ControlVersion:
    return resolve(f"{CONTROL}@1")


def test_reference_pattern_matches_every_catalogue_record(v1):
    pattern = compile_pattern(v1.control.reference_pattern)
    assert len(v1.matches) >= 16
    assert all(pattern.matches_all([LogEvent(e.text) for e in v1.matches]))
    assert not any(pattern.matches_all([LogEvent(e.text) for e in v1.does_not_match]))


def test_catalogue_spans_names_outcomes_identities_and_regions(v1):
    records = [e.record for e in v1.matches]
    assert {r["eventName"] for r in records} == set(v1.control.event_names)
    assert any("errorCode" in r for r in records) and any("errorCode" not in r for r in records)
    assert len({r["userIdentity"]["type"] for r in records}) >= 4
    assert len({r["awsRegion"] for r in records}) >= 8


def test_metadata_carries_the_policy_card_mappings(v1):
    frameworks = {(f["framework"], f["version"], f["requirement"]) for f in v1.control.frameworks}
    assert ("CIS AWS Foundations Benchmark", "v1.2.0", "3.9") in frameworks
    for version in ("v1.3.0", "v1.4.0", "v1.5.0", "v2.0.0", "v3.0.0", "v4.0.0", "v4.0.1", "v5.0.0"):
        assert ("CIS AWS Foundations Benchmark", version, "4.9") in frameworks
    for version in ("v6.0.0", "v7.0.0"):
        assert ("CIS AWS Foundations Benchmark", version, "5.9") in frameworks
    requirements = {f["requirement"] for f in v1.control.frameworks}
    assert {"AU-12", "SI-4(20)", "DE.CM-01", "DE.CM-03", "DE.CM-09", "CloudWatch.9"} <= requirements
    assert v1.control.remediation and v1.control.rationale and v1.control.description


def test_security_hub_control_is_labelled_with_the_standards_it_belongs_to(v1):
    # CloudWatch.9's related requirements (Security Hub's control reference) are CIS
    # v1.2.0 3.9, CIS v1.4.0 4.9 and NIST 800-171 r2; it is not a control of AWS
    # Foundational Security Best Practices.
    standards = {f["version"] for f in v1.control.frameworks
                 if f["framework"] == "AWS Security Hub" and f["requirement"] == "CloudWatch.9"}
    assert standards == {"CIS AWS Foundations Benchmark v1.2.0",
                         "CIS AWS Foundations Benchmark v1.4.0", "NIST SP 800-171 Revision 2"}
    assert not any("Foundational Security" in f["version"] for f in v1.control.frameworks)


@pytest.mark.parametrize("fmt", ["ocsf", "asff"])
def test_every_mapped_framework_reaches_the_findings(cli, inspector, seeder, fmt):
    seeder.chain("us-east-1")
    inspector.collect()
    import json

    result = cli("check", "--db", inspector.db, "--control", CONFIG_CONTROL, "--format", fmt, "--exit-zero")
    assert result.exit_code == 0, result.stderr
    [first] = json.loads(result.stdout)
    listed = (first["compliance"]["requirements"] if fmt == "ocsf"
              else first["Compliance"]["RelatedRequirements"])
    for wanted in ("CIS AWS Foundations Benchmark v6.0.0 5.9",
                   "CIS AWS Foundations Benchmark v7.0.0 5.9",
                   "AWS Security Hub CIS AWS Foundations Benchmark v1.2.0 CloudWatch.9"):
        assert wanted in listed


@pytest.mark.parametrize("dialect", ["postgres", "trino", "snowflake", "bigquery", "spark"])
def test_v1_transpiles_without_errors(v1, dialect):
    out = sqlglot.transpile(v1.sql, read="duckdb", write=dialect,
                            unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert len(out) == 1 and "cfgmon_pattern_coverage" in out[0]


def test_latest_version_is_the_default():
    control = load_catalogue()[CONTROL]
    assert resolve(CONTROL) is control.latest


def test_a_query_reading_an_unknown_table_is_rejected(v1):
    broken = ControlVersion(v1.control, "99", "", "SELECT account_id, status, reason, resource "
                            "FROM aws_no_such_table", v1.matches, v1.does_not_match)
    with pytest.raises(ControlError, match="aws_no_such_table"):
        validate_sql(broken)


def test_a_query_that_writes_is_rejected(v1):
    broken = ControlVersion(v1.control, "99", "", "DELETE FROM cfgmon_account",
                            v1.matches, v1.does_not_match)
    with pytest.raises(ControlError, match="one SELECT"):
        validate_sql(broken)


def test_a_query_missing_shared_columns_is_rejected(v1):
    broken = ControlVersion(v1.control, "99", "", "SELECT account_id FROM cfgmon_account",
                            v1.matches, v1.does_not_match)
    with pytest.raises(ControlError, match="does not return status, reason, resource"):
        validate_sql(broken)


def test_controls_commands(cli):
    listed = cli("controls", "list", "--format", "json")
    assert listed.exit_code == 0 and CONTROL in listed.stdout
    shown = cli("controls", "show", f"{CONTROL}@1")
    assert shown.exit_code == 0
    assert "CIS AWS Foundations Benchmark v1.2.0 3.9" in shown.stdout
    assert "CIS AWS Foundations Benchmark v6.0.0 5.9" in shown.stdout
    assert "cfgmon_pattern_coverage" in shown.stdout
    transpiled = cli("controls", "transpile", CONTROL, "--dialect", "postgres")
    assert transpiled.exit_code == 0 and "WITH" in transpiled.stdout
    bad = cli("controls", "transpile", CONTROL, "--dialect", "oracle-ish")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr
