"""OCSF 1.3 Compliance Finding (class 2003), one JSON object per result, as an array."""

from __future__ import annotations

import cfgmon
from cfgmon.output.findings import control_of, region_of, requirements, utc
from cfgmon.output.json_format import write_array

OCSF_VERSION = "1.3.0"
CLASS_UID = 2003          # Compliance Finding
CATEGORY_UID = 2          # Findings
ACTIVITY_CREATE = 1
SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
# compliance.status_id: 1 Pass, 2 Warning, 3 Fail
COMPLIANCE = {
    "COMPLIANT": (1, "Pass"),
    "INSUFFICIENT_DATA": (2, "Warning"),
    "NON_COMPLIANT": (3, "Fail"),
    "NOT_APPLICABLE": (99, "Not Applicable"),   # OCSF 1.3 has no such status: Other
}


def finding(result, context) -> dict:
    control = control_of(result, context)
    status_id, status = COMPLIANCE[result["status"]]
    severity = str(control.get("severity", "medium")).lower()
    epoch_ms = int(utc(result["evaluated_at"]).timestamp() * 1000)
    region = region_of(result)
    return {
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "severity_id": SEVERITY_IDS.get(severity, 99),
        "severity": severity.capitalize(),
        "time": epoch_ms,
        "status_id": 1,
        "status": "New",
        "message": result["reason"],
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "cfgmon", "vendor_name": "cfgmon", "version": cfgmon.__version__},
            "event_code": result["control_id"],
        },
        "finding_info": {
            "uid": f"{result['control_id']}/{result['account_id']}/{result['run_id']}",
            "title": control.get("title", result["control_id"]),
            "desc": control.get("description", ""),
            "created_time": epoch_ms,
            "types": ["Compliance"],
        },
        "compliance": {
            "control": f"{result['control_id']}@{result['control_version']}",
            "standards": sorted({f["framework"] for f in control.get("frameworks", [])}),
            "requirements": requirements(control),
            "status_id": status_id,
            "status": status,
            "status_detail": result["reason"],
        },
        "cloud": {"provider": "AWS", "account": {"uid": result["account_id"], "type": "AWS Account"},
                  **({"region": region} if region else {})},
        "resources": [{"uid": result["resource"], "type": _resource_type(result["resource"])}]
        if result.get("resource") else [],
        "remediation": {
            "desc": " ".join(control.get("remediation", [])),
            "references": control.get("references", []),
        },
        "evidences": [{"data": result.get("evidence") or {}}],
        "unmapped": {"cfgmon_status": result["status"], "run_id": result["run_id"]},
    }


def _resource_type(resource: str) -> str:
    parts = resource.split(":")
    if resource.startswith("AWS::::Account"):
        return "AWS Account"
    return f"AWS {parts[2]}" if resource.startswith("arn:") and len(parts) > 2 else "Other"


def render(rows, context, out) -> None:
    write_array((finding(r, context) for r in rows), out)
