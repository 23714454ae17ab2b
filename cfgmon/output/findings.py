"""What the finding formats (OCSF, ASFF, JUnit) share about a control result."""

from __future__ import annotations

import datetime as dt
from typing import Any

# A verdict in a few characters, for a cell of a matrix of controls by accounts.
SHORT = {"COMPLIANT": "pass", "NON_COMPLIANT": "FAIL", "INSUFFICIENT_DATA": "?",
         "NOT_APPLICABLE": "n/a"}

STATUS_WORDS = {
    "COMPLIANT": "passed",
    "NON_COMPLIANT": "failed",
    "INSUFFICIENT_DATA": "could not be decided",
    "NOT_APPLICABLE": "does not apply",
}


def control_of(result: dict[str, Any], context) -> dict[str, Any]:
    """The metadata of the control version a result came from."""
    return context.controls.get(f"{result['control_id']}@{result['control_version']}", {})


def utc(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def iso(value) -> str:
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def region_of(result: dict[str, Any]) -> str | None:
    """The region of the resource a result is about, read from its ARN."""
    resource = result.get("resource") or ""
    parts = resource.split(":")
    if resource.startswith("arn:") and len(parts) > 3 and parts[3]:
        return parts[3]
    return (result.get("evidence") or {}).get("trail_home_region")


def requirements(control: dict[str, Any]) -> list[str]:
    return [
        f"{f['framework']} {f['version']} {f['requirement']}" for f in control.get("frameworks", [])
    ]


def requirement_of(controls: dict[str, dict[str, Any]], ref: str, framework: str | None) -> str:
    """The requirement id a control answers in the framework judged (`5.9`), or ''."""
    meta = controls.get(ref, {})
    framework = framework or meta.get("default_framework")
    found = sorted({f["requirement"] for f in meta.get("frameworks", ()) if f.get("id") == framework})
    return ", ".join(found)


def requirement_key(requirement: str) -> list:
    """`5.10` after `5.9`: requirement ids in their numeric order."""
    return [int(p) if p.isdigit() else p for p in requirement.split(".")]
