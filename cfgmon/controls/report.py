"""One audit: the results of one run of the controls, as `check`, `results` and `demo` show them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cfgmon.controls.catalogue import STATUSES, ControlVersion, resolve
from cfgmon.controls.freshness import MaxAge
from cfgmon.controls.runner import ControlResult, run_controls
from cfgmon.errors import ControlError

# The exit-code contract: these statuses make `check` and `results` exit 1.
FAILING_STATUSES = frozenset({"NON_COMPLIANT", "INSUFFICIENT_DATA"})


@dataclass(frozen=True)
class CheckReport:
    """The results of one run, the metadata of its controls, and what a selection hid."""

    run_id: str | None
    results: tuple[ControlResult, ...]
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)  # metadata by id@version
    hidden: int = 0            # results of the run left out by `select`
    # the fix of each NON_COMPLIANT result, by (control_id, control_version, account_id),
    # as cfgmon.remediation.rendered gives it (a mapping, already encoded as JSON by
    # rendered_plans); filled only for formats that show it
    remediation: dict[tuple[str, str, str], Mapping[str, Any]] = field(default_factory=dict)
    estate: Any = None         # cfgmon.controls.estate.Estate, for the formats that show it

    @property
    def control_refs(self) -> list[str]:
        return sorted({_ref(r) for r in self.results})

    @property
    def accounts(self) -> list[str]:
        return sorted({r.account_id for r in self.results})

    @property
    def failing(self) -> bool:
        return any(r.status in FAILING_STATUSES for r in self.results)

    def counts(self) -> dict[str, int]:
        """Results per status, in the order of STATUSES."""
        counted = Counter(r.status for r in self.results)
        return {status: counted.get(status, 0) for status in STATUSES}

    def select(self, statuses: Iterable[str] = (), accounts: Iterable[str] = ()) -> CheckReport:
        """Only the results with one of `statuses` and for one of `accounts` (empty: any)."""
        statuses, accounts = set(statuses), set(accounts)
        kept = tuple(
            r for r in self.results
            if (not statuses or r.status in statuses) and (not accounts or r.account_id in accounts)
        )
        return replace(self, results=kept, hidden=self.hidden + len(self.results) - len(kept))

    def only(self, control_id: str) -> CheckReport:
        """The results of one control (its metadata kept)."""
        kept = tuple(r for r in self.results if r.control_id == control_id)
        return replace(self, results=kept)

    def rows(self) -> list[dict[str, Any]]:
        """Each result as a dict with its keys, plus `control` (id@version) and, when
        planned, the `remediation` of a NON_COMPLIANT one."""
        rows = []
        for r in self.results:
            row = r.as_dict() | {"control": _ref(r)}
            fix = self.remediation.get((r.control_id, r.control_version, r.account_id))
            if fix is not None:
                row["remediation"] = fix
            rows.append(row)
        return rows


def run_check(
    con, versions: list[ControlVersion], *, record: bool = True, max_age: MaxAge | None = None,
    framework: str | None = None,
) -> CheckReport:
    """Run the control versions over the inventory in `con` (recording the run) as one report."""
    results = run_controls(con, versions, record=record, max_age=max_age, framework=framework)
    return CheckReport(
        run_id=results[0].run_id if results else None,
        results=tuple(sorted(results, key=result_order)),
        controls={v.ref: v.control.metadata() for v in versions},
    )


def result_order(result: ControlResult) -> tuple:
    """The order every output lists results in, for a fresh run and a stored one alike."""
    return (result.control_id, result.control_version, result.account_id)


def control_metadata(refs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The catalogue's metadata for each id@version still in it (a stored run may name others)."""
    found = {}
    for ref in refs:
        try:
            found[ref] = resolve(ref).control.metadata()
        except ControlError:
            continue
    return found


def _ref(result: ControlResult) -> str:
    return f"{result.control_id}@{result.control_version}"
