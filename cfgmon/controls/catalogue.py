"""The catalogue of controls: `queries/<control>/` folders with metadata, SQL and events.

Each folder holds `control.toml` (metadata, framework mappings, released versions),
one SQL file per version and one event catalogue per version. Loading validates
every version's SQL with sqlglot, so a malformed control is a clear error before
anything runs.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cfgmon
from cfgmon.controls.chains import load_chain, matches_sha256, validate_chain
from cfgmon.errors import ControlError

# Every control query returns these columns, in any order; columns named
# evidence_<key> become the result's evidence object.
REQUIRED_COLUMNS = ("account_id", "status", "reason", "resource")
EVIDENCE_PREFIX = "evidence_"
STATUSES = ("COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA", "NOT_APPLICABLE")


# The CIS AWS Foundations Benchmark versions the family is mapped to, oldest first;
# framework ids are `cis-aws@<version>` and `securityhub`.
CIS_VERSIONS = ("1.2.0", "1.3.0", "1.4.0", "1.5.0", "2.0.0", "3.0.0", "4.0.0", "4.0.1",
                "5.0.0", "6.0.0", "7.0.0")
SECURITY_HUB = "securityhub"


def record_applies(entry: dict[str, Any], cis_version: str) -> bool:
    """Whether a catalogue entry belongs to a CIS version's events.

    An entry may carry `since` (the first CIS version that lists it) and `until`
    (the first version that no longer does); without them it belongs to every version.
    """
    key = _version_key(cis_version)
    since, until = entry.get("since"), entry.get("until")
    return (since is None or _version_key(since) <= key) and (
        until is None or key < _version_key(until))


def queries_dir() -> Path:
    """The installed catalogue (inside the wheel) or the source tree's `queries/`."""
    package = Path(cfgmon.__file__).resolve().parent
    for candidate in (package / "queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise ControlError("the control catalogue (queries/) is missing from this installation")


# The account every catalogue record is written for (AWS's documentation example): a
# judged account's rendering of a record puts its own id wherever this one stands.
CATALOGUE_ACCOUNT = "111122223333"


@dataclass(frozen=True)
class CatalogueEvent:
    label: str
    record: dict[str, Any]
    since: str | None = None   # first CIS version whose events include it
    until: str | None = None   # first CIS version whose events no longer do

    def applies(self, cis_version: str | None) -> bool:
        return cis_version is None or record_applies(
            {"since": self.since, "until": self.until}, cis_version)

    @property
    def text(self) -> str:
        return json.dumps(self.record, separators=(",", ":"))

    @property
    def event_name(self) -> str:
        return str(self.record.get("eventName", ""))


@dataclass(frozen=True)
class EventSet:
    """The catalogue records one run judges: a framework version's, or the whole catalogue.

    `name` keys the derived rows (cfgmon_pattern_coverage and the others): the framework
    id (`cis-aws@5.0.0`), or '' for a control version with one fixed catalogue.
    """

    name: str
    matches: tuple[CatalogueEvent, ...]          # records a covering filter must match
    does_not_match: tuple[CatalogueEvent, ...]   # records outside the reference pattern
    background: tuple[CatalogueEvent, ...] = ()  # ordinary traffic of an account


@dataclass(frozen=True)
class ControlVersion:
    control: Control
    version: str
    released: str
    sql: str
    matches: tuple[CatalogueEvent, ...]          # the default event set's records
    does_not_match: tuple[CatalogueEvent, ...]
    notes: str = ""
    chain: str | None = None                     # `alarm_chain@1` when the SQL is a shared chain
    catalogue: tuple[CatalogueEvent, ...] = ()   # every record, with its since/until
    near_misses: tuple[CatalogueEvent, ...] = ()
    background: tuple[CatalogueEvent, ...] = ()
    judged_together: bool = False                # its chain judges every bound control at once
    chain_locked: bool = False                   # its chain's text matches the chain's sha256

    @property
    def ref(self) -> str:
        return f"{self.control.id}@{self.version}"

    def event_set(self, framework: str | None = None) -> EventSet:
        """The records judged for `framework` (an id the control maps), by default the
        newest CIS version's; a version on its own SQL always judges its whole catalogue."""
        if self.chain is None:
            return EventSet("", self.matches, self.does_not_match, self.background)
        framework = framework or self.control.default_framework
        cis = self.control.cis_version_of(framework)
        return EventSet(
            framework,
            tuple(e for e in self.catalogue if e.applies(cis)),
            tuple(e for e in self.near_misses if e.applies(cis)),
            self.background,
        )


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    description: str
    rationale: str
    remediation: tuple[str, ...]
    references: tuple[str, ...]
    frameworks: tuple[dict[str, str], ...]
    event_names: tuple[str, ...]
    reference_pattern: str
    resource_type: str
    folder: Path
    event_noun: str = "catalogue events"
    applies_to: str = "every_account"   # or management_account
    securityhub_as: str | None = None   # the CIS version whose events Security Hub judges
    reference_patterns: tuple[dict[str, Any], ...] = ()  # each: frameworks, pattern, source
    versions: dict[str, ControlVersion] = field(default_factory=dict, compare=False, repr=False)

    @property
    def latest(self) -> ControlVersion:
        return self.versions[max(self.versions, key=_version_key)]

    @functools.cached_property  # asked for every result a report plans a fix for
    def framework_ids(self) -> tuple[str, ...]:
        """The framework versions the control maps to, CIS oldest first, then Security Hub."""
        ids = {f["id"] for f in self.frameworks if f.get("id")}
        cis = sorted((i for i in ids if i.startswith("cis-aws@")),
                     key=lambda i: _version_key(i.removeprefix("cis-aws@")))
        return tuple(cis) + tuple(sorted(ids - set(cis)))

    @functools.cached_property
    def default_framework(self) -> str | None:
        """The newest CIS version the control maps to: what `cfgmon check` judges."""
        cis = [i for i in self.framework_ids if i.startswith("cis-aws@")]
        return cis[-1] if cis else None

    def cis_version_of(self, framework: str | None) -> str | None:
        if framework is None:
            return None
        if framework not in self.framework_ids:
            raise ControlError(f"control {self.id} does not map framework {framework}")
        if framework == SECURITY_HUB:
            framework = self.securityhub_as or self.default_framework or ""
        return framework.removeprefix("cis-aws@")

    def reference_for(self, framework: str | None = None) -> str:
        """The reference pattern a framework version prints (default: the newest CIS)."""
        framework = framework or self.default_framework
        for entry in self.reference_patterns:
            if framework in entry["frameworks"]:
                return entry["pattern"]
        return self.reference_pattern

    def requirements_of(self, framework: str) -> list[dict[str, str]]:
        """The framework entries (requirement ids and titles) of one framework id."""
        return [dict(f) for f in self.frameworks if f.get("id") == framework]

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "description": self.description,
            "rationale": self.rationale,
            "remediation": list(self.remediation),
            "references": list(self.references),
            "frameworks": [dict(f) for f in self.frameworks],
            "event_names": list(self.event_names),
            "reference_pattern": self.reference_pattern,
            "event_noun": self.event_noun,
            "default_framework": self.default_framework,
            "applies_to": self.applies_to,
            "versions": sorted(self.versions, key=_version_key),
        }


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


@functools.cache
def load_catalogue(folder: Path | None = None) -> dict[str, Control]:
    """All controls by id, each with its versions loaded and validated."""
    root = folder or queries_dir()
    controls = {}
    for control_toml in sorted(root.glob("*/control.toml")):
        control = _load_control(control_toml.parent)
        # A folder with no released version yet is a control in preparation: its
        # metadata and events are checked by the tests, but nothing runs it.
        if control.versions:
            controls[control.id] = control
    if not controls:
        raise ControlError(f"no controls found in {root}")
    _validate_chains(controls.values())
    return controls


def _validate_chains(controls) -> None:
    """Every chain a control runs on names none of the catalogue's controls or events.

    A released chain whose text matches its sha256 lock was validated by the tests
    before its release and cannot have changed since, so only other chains (edited,
    or a folder of one's own) pay for parsing some hundreds of lines of SQL here.
    """
    forbidden = {c.id for c in controls} | {n for c in controls for n in c.event_names}
    checked = set()
    for control in controls:
        for version in control.versions.values():
            if version.chain and version.chain not in checked:
                checked.add(version.chain)
                if version.chain_locked:
                    continue
                validate_chain(version.sql, f"chain {version.chain}", forbidden=forbidden)
                validate_sql(version, where=f"chain {version.chain}")


def resolve(spec: str) -> ControlVersion:
    """`ID` (latest version) or `ID@VERSION`."""
    control_id, _, version = spec.partition("@")
    catalogue = load_catalogue()
    control = catalogue.get(control_id)
    if control is None:
        raise ControlError(
            f"unknown control {control_id!r}; known controls: {', '.join(sorted(catalogue))}"
        )
    if not version:
        return control.latest
    version = version.removeprefix("v")
    if version not in control.versions:
        known = ", ".join(sorted(control.versions, key=_version_key))
        raise ControlError(f"control {control_id} has no version {version!r}; versions: {known}")
    return control.versions[version]


def _load_control(folder: Path) -> Control:
    try:
        meta = tomllib.loads((folder / "control.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ControlError(f"{folder.name}/control.toml cannot be read: {exc}") from None
    try:
        control = Control(
            id=meta["id"],
            title=meta["title"],
            severity=meta["severity"],
            description=meta["description"].strip(),
            rationale=meta["rationale"].strip(),
            remediation=tuple(meta["remediation"]),
            references=tuple(meta.get("references", ())),
            frameworks=tuple(meta.get("frameworks", ())),
            event_names=tuple(meta["event_names"]),
            reference_pattern=meta["reference_pattern"],
            resource_type=meta.get("resource_type", "AwsAccount"),
            folder=folder,
            event_noun=meta.get("event_noun", "catalogue events"),
            applies_to=meta.get("applies_to", "every_account"),
            securityhub_as=meta.get("securityhub_as"),
            reference_patterns=tuple(meta.get("reference_patterns", ())),
        )
        for entry in meta.get("versions", ()):
            version = _load_version(control, entry)
            control.versions[version.version] = version
    except KeyError as exc:
        raise ControlError(f"{folder.name}/control.toml lacks {exc.args[0]!r}") from None
    return control


def _load_version(control: Control, entry: dict[str, Any]) -> ControlVersion:
    folder = control.folder
    chain = entry.get("chain")
    shared = load_chain(chain, folder.parent) if chain else None
    sql = shared.sql if shared else (folder / entry["sql"]).read_text(encoding="utf-8")
    events = json.loads((folder / entry["catalogue"]).read_text(encoding="utf-8"))
    catalogue = _events(events["matches"])
    near_misses = _events(events.get("does_not_match", ()))
    background = _events(events.get("background", ()))
    version = ControlVersion(
        control=control,
        version=str(entry["version"]),
        released=str(entry.get("released", "")),
        sql=sql,
        matches=catalogue,
        does_not_match=near_misses,
        notes=entry.get("notes", ""),
        chain=chain,
        catalogue=catalogue,
        near_misses=near_misses,
        background=background,
        judged_together=bool(shared and shared.judges_many),
        chain_locked=bool(shared and shared.matches_lock),
    )
    if chain:
        # the default event set's records are what `matches` means to every caller
        default = version.event_set()
        version = dataclasses.replace(version, matches=default.matches,
                                      does_not_match=default.does_not_match)
    elif not matches_sha256(folder / entry["sql"], (entry.get("sha256") or {}).get(entry["sql"])):
        # a released file that matches its sha256 lock was validated by the tests
        # before its release and cannot have changed since (see _validate_chains)
        validate_sql(version)
    return version



def _events(entries) -> tuple[CatalogueEvent, ...]:
    return tuple(
        CatalogueEvent(e["label"], e["record"], e.get("since"), e.get("until")) for e in entries
    )


def validate_sql(version: ControlVersion, where: str | None = None) -> None:
    """One read-only SELECT over tables the schema defines, returning the shared columns."""
    import sqlglot  # here: a check of released controls parses no SQL (see _load_version)
    from sqlglot import exp

    from cfgmon.store.database import schema_tables

    where = where or f"{version.control.folder.name}/v{version.version}"
    try:
        statements = [s for s in sqlglot.parse(version.sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ControlError(f"{where}: SQL does not parse: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ControlError(f"{where}: a control is exactly one SELECT statement")
    tree = statements[0]
    if any(tree.find_all(exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop)):
        raise ControlError(f"{where}: a control may only read")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    known = schema_tables()
    unknown = sorted(
        {t.name for t in tree.find_all(exp.Table)} - ctes - set(known)
    )
    if unknown:
        raise ControlError(f"{where}: reads tables the schema does not define: {', '.join(unknown)}")
    columns = {s.alias_or_name for s in tree.selects}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ControlError(f"{where}: the query does not return {', '.join(missing)}")


def tables_read(version: ControlVersion) -> list[str]:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(version.sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted({t.name for t in tree.find_all(exp.Table)} - ctes)
