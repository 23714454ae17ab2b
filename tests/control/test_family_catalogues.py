"""The catalogue rules, over every control folder in queries/ (released or in
preparation): realistic CloudTrail records, and every reference pattern of every
framework version covering that version's records and none of its near misses.

Adding a control folder adds it here; nothing in this file names a control.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pytest

from cfgmon.controls.catalogue import (
    CIS_VERSIONS,
    SECURITY_HUB,
    queries_dir,
    record_applies,
)
from cfgmon.patterns import LogEvent, compile_pattern

FOLDERS = sorted(p.parent for p in queries_dir().glob("*/control.toml"))
REQUIRED_KEYS = {
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "requestID", "eventID", "eventType", "recipientAccountId",
}
IDENTITY_TYPES = {"Root", "IAMUser", "AssumedRole", "FederatedUser", "AWSService", "AWSAccount",
                  "IdentityCenterUser", "Unknown", "SAMLUser", "WebIdentityUser"}
# Events of these services are global: CloudTrail delivers them as us-east-1 events.
# (Console sign-in is regional: it is logged in the region of the sign-in endpoint.)
GLOBAL_SOURCES = {"iam.amazonaws.com", "organizations.amazonaws.com", "cloudfront.amazonaws.com"}
# CloudTrail writes no requestID on console sign-in records.
NO_REQUEST_ID = {"signin.amazonaws.com"}
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


def _meta(folder: Path) -> dict:
    return tomllib.loads((folder / "control.toml").read_text(encoding="utf-8"))


def _catalogue(folder: Path) -> dict:
    meta = _meta(folder)
    versions = meta.get("versions") or [{"catalogue": "catalogue-v1.json"}]
    name = versions[-1]["catalogue"]
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _framework_cases():
    """(folder, framework id, the CIS version whose events it judges, reference entry)."""
    cases = []
    for folder in FOLDERS:
        meta = _meta(folder)
        for reference in meta.get("reference_patterns", ()):
            for framework in reference["frameworks"]:
                cis = meta.get("securityhub_as", "") if framework == SECURITY_HUB else framework
                cases.append((folder, framework, cis.removeprefix("cis-aws@"), reference))
    return cases


CASES = _framework_cases()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_metadata_is_complete(folder):
    meta = _meta(folder)
    assert meta["id"] == folder.name
    for key in ("title", "severity", "description", "rationale", "event_noun", "remediation"):
        assert meta.get(key), f"{folder.name}: no {key}"
    assert meta.get("applies_to", "every_account") in ("every_account", "management_account")
    ids = {f.get("id") for f in meta["frameworks"]} - {None}
    referenced = [fw for r in meta.get("reference_patterns", ()) for fw in r["frameworks"]]
    # every framework version of the control has exactly one reference pattern
    assert sorted(referenced) == sorted(ids), folder.name
    for framework in ids:
        assert framework == SECURITY_HUB or framework.removeprefix("cis-aws@") in CIS_VERSIONS
    if SECURITY_HUB in ids:
        assert meta["securityhub_as"].removeprefix("cis-aws@") in CIS_VERSIONS


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_records_are_realistic_cloudtrail(folder):
    catalogue = _catalogue(folder)
    entries = (catalogue["matches"] + catalogue.get("does_not_match", [])
               + catalogue.get("background", []))
    assert len(catalogue["matches"]) >= 6, folder.name
    labels = [e["label"] for e in entries]
    assert len(labels) == len(set(labels)), "labels are unique"
    for entry in entries:
        record = entry["record"]
        required = REQUIRED_KEYS - ({"requestID"} if record["eventSource"] in NO_REQUEST_ID else set())
        missing = required - set(record)
        assert not missing, f"{entry['label']}: lacks {sorted(missing)}"
        assert record["userIdentity"]["type"] in IDENTITY_TYPES, entry["label"]
        assert REGION.match(record["awsRegion"]), entry["label"]
        assert re.fullmatch(r"\d{12}", record["recipientAccountId"]), entry["label"]
        dt.datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        assert record["eventSource"].endswith(".amazonaws.com"), entry["label"]
        if record["eventSource"] in GLOBAL_SOURCES:
            assert record["awsRegion"] == "us-east-1", f"{entry['label']}: global service"
        for key in ("since", "until"):
            assert entry.get(key) is None or entry[key] in CIS_VERSIONS, entry["label"]
    records = [e["record"] for e in catalogue["matches"]]
    identities = {r["userIdentity"]["type"] for r in records}
    # a control about one kind of identity (root usage, console sign-ins) has only those
    if not ({r["eventName"] for r in records} == {"ConsoleLogin"} or identities == {"Root"}):
        assert len(identities) >= 3, folder.name
    if not all(r["eventSource"] in GLOBAL_SOURCES for r in records):  # global: us-east-1 only
        assert len({r["awsRegion"] for r in records}) >= 3, folder.name


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_listed_event_name_is_in_the_catalogue(folder):
    names = set(_meta(folder)["event_names"])
    recorded = {e["record"]["eventName"] for e in _catalogue(folder)["matches"]}
    assert names <= recorded, f"{folder.name}: no record of {sorted(names - recorded)}"
    if names:
        assert recorded <= names, f"{folder.name}: records of unlisted {sorted(recorded - names)}"


@pytest.mark.parametrize(
    ("folder", "framework", "cis", "reference"), CASES,
    ids=[f"{c[0].name}-{c[1]}" for c in CASES],
)
def test_each_reference_pattern_covers_its_versions_records_and_no_near_miss(
    folder, framework, cis, reference
):
    catalogue = _catalogue(folder)
    pattern = compile_pattern(reference["pattern"])
    matches = [e for e in catalogue["matches"] if record_applies(e, cis)]
    near = [e for e in catalogue.get("does_not_match", []) if record_applies(e, cis)]
    assert matches, f"{framework}: no records"
    missed = [e["label"] for e in matches
              if not pattern.matches(LogEvent(json.dumps(e["record"])))]
    matched_near = [e["label"] for e in near
                    if pattern.matches(LogEvent(json.dumps(e["record"])))]
    background = [e["label"] for e in catalogue.get("background", [])
                  if pattern.matches(LogEvent(json.dumps(e["record"])))]
    if reference.get("matches_background"):
        # a reference that matches ordinary traffic keeps its alarm in ALARM; the
        # folder says why CIS printed it anyway (DECISIONS.md)
        assert background and reference.get("note") and (folder / "DECISIONS.md").exists()
    else:
        assert not background, f"{framework}: reference matches ordinary traffic {background}"
    if reference.get("expect") == "does_not_cover":
        # CIS contradicts itself here; the folder says why (DECISIONS.md).
        assert missed or matched_near, f"{framework}: marked does_not_cover, yet it covers"
        assert reference.get("note") and (folder / "DECISIONS.md").exists()
        return
    assert not missed, f"{framework}: reference pattern misses {missed}"
    assert not matched_near, f"{framework}: reference pattern matches near misses {matched_near}"
