"""AWS Security Finding Format: a JSON array that `aws securityhub batch-import-findings
--findings file://…` accepts."""

from __future__ import annotations

from cfgmon.output.findings import control_of, iso, region_of, requirements
from cfgmon.output.json_format import write_array

SCHEMA_VERSION = "2018-10-08"
DEFAULT_REGION = "us-east-1"
COMPLIANCE_STATUS = {
    "COMPLIANT": "PASSED",
    "NON_COMPLIANT": "FAILED",
    "INSUFFICIENT_DATA": "NOT_AVAILABLE",
    # ASFF: NOT_AVAILABLE also stands for an evaluation that does not apply
    "NOT_APPLICABLE": "NOT_AVAILABLE",
}
SEVERITY_LABELS = {"informational": "INFORMATIONAL", "low": "LOW", "medium": "MEDIUM",
                   "high": "HIGH", "critical": "CRITICAL"}
# ASFF field limits (characters / entries)
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX, REQUIREMENTS_MAX = 256, 1024, 512, 32


def finding(result, context) -> dict:
    control = control_of(result, context)
    account = result["account_id"]
    region = region_of(result) or DEFAULT_REGION
    partition = _partition(result.get("resource") or "")
    severity = SEVERITY_LABELS.get(str(control.get("severity", "medium")).lower(), "MEDIUM")
    status = COMPLIANCE_STATUS[result["status"]]
    when = iso(result["evaluated_at"])
    resource_id = result.get("resource") or f"AWS::::Account:{account}"
    product_fields = {
        "cfgmon/ControlId": result["control_id"],
        "cfgmon/ControlVersion": str(result["control_version"]),
        "cfgmon/Status": result["status"],
        "cfgmon/RunId": result["run_id"],
    }
    for key, value in (result.get("evidence") or {}).items():
        product_fields[f"cfgmon/Evidence/{key}"] = str(value)[:2048]
    references = control.get("references", [])
    return {
        "SchemaVersion": SCHEMA_VERSION,
        # Stable per control and account, so a re-import updates the same finding.
        "Id": f"cfgmon/{result['control_id']}/{account}",
        "ProductArn": f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": f"cfgmon/{result['control_id']}",
        "AwsAccountId": account,
        "Region": region,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"],
        "CreatedAt": when,
        "UpdatedAt": when,
        "Severity": {"Label": severity if status == "FAILED" else "INFORMATIONAL",
                     "Original": str(control.get("severity", "")).upper()},
        "Title": control.get("title", result["control_id"])[:TITLE_MAX],
        "Description": result["reason"][:DESCRIPTION_MAX],
        "Remediation": {"Recommendation": {
            "Text": " ".join(control.get("remediation", []))[:RECOMMENDATION_MAX],
            **({"Url": references[0]} if references else {}),
        }},
        "ProductFields": product_fields,
        "Resources": [{
            "Type": "AwsAccount" if resource_id.startswith("AWS::::Account") else "Other",
            "Id": resource_id,
            "Partition": partition,
            "Region": region,
        }],
        "Compliance": {
            "Status": status,
            "RelatedRequirements": requirements(control)[:REQUIREMENTS_MAX],
        },
        "Workflow": {"Status": "RESOLVED" if result["status"] in ("COMPLIANT", "NOT_APPLICABLE") else "NEW"},
        "RecordState": "ACTIVE",
    }


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if arn.startswith("arn:") and len(parts) > 1 and parts[1] else "aws"


def render(rows, context, out) -> None:
    write_array((finding(r, context) for r in rows), out)
