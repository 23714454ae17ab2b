"""JUnit XML for CI systems: one testcase per account and control; NON_COMPLIANT is a
failure, INSUFFICIENT_DATA an error (the check could not be decided)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from cfgmon.output.findings import control_of, iso
from cfgmon.output.json_format import dumps


def render(rows, context, out) -> None:
    rows = list(rows)
    by_control = defaultdict(list)
    for row in rows:
        by_control[f"{row['control_id']}@{row['control_version']}"].append(row)
    suites = ET.Element("testsuites", name="cfgmon")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for ref, results in by_control.items():
        suite = ET.SubElement(suites, "testsuite", name=ref)
        counts = {"tests": len(results), "failures": 0, "errors": 0, "skipped": 0}
        for result in results:
            control = control_of(result, context)
            case = ET.SubElement(
                suite, "testcase", classname=ref, name=f"account {result['account_id']}"
            )
            case.set("timestamp", iso(result["evaluated_at"]))
            if result["status"] == "NON_COMPLIANT":
                counts["failures"] += 1
                element = ET.SubElement(case, "failure", message=result["reason"], type="NON_COMPLIANT")
            elif result["status"] == "INSUFFICIENT_DATA":
                counts["errors"] += 1
                element = ET.SubElement(case, "error", message=result["reason"], type="INSUFFICIENT_DATA")
            elif result["status"] == "NOT_APPLICABLE":
                counts["skipped"] += 1
                element = ET.SubElement(case, "skipped", message=result["reason"])
            else:
                element = ET.SubElement(case, "system-out")
            element.text = (
                f"{control.get('title', ref)}\n{result['reason']}\n"
                f"evidence: {dumps(result.get('evidence') or {}, indent=2, sort_keys=True)}"
            )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(suites, encoding="unicode"))
    out.write("\n")
