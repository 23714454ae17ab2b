"""Chains: one versioned SQL query shared by a family of controls.

`queries/_chains/<name>/chain.toml` lists the released versions of a chain (`vN.sql`,
each with its sha256). A control version names the chain it runs on
(`chain = "alarm_chain@1"`); before the chain runs, cfgmon writes the control's facts
into cfgmon_chain_control and its derived rows keyed by control, so the chain itself
names no control, no event source and no event.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cfgmon.errors import ControlError

if TYPE_CHECKING:
    from sqlglot import exp

CHAINS_FOLDER = "_chains"
BINDING_TABLE = "cfgmon_chain_control"
# Derived tables hold rows of every control; a chain may read them only keyed by the
# bound control.
KEYED_TABLES = ("cfgmon_pattern_coverage", "cfgmon_catalogue_value", "cfgmon_trail_capture",
                "cfgmon_metric_coverage", "cfgmon_dimension_value", "cfgmon_judged_coverage",
                "cfgmon_judged_value", "cfgmon_group_coverage")


@dataclass(frozen=True)
class Chain:
    name: str
    version: str
    sql: str
    path: Path
    sha256: str
    # True when one query judges every control bound in cfgmon_chain_control, its rows
    # carrying control_id and control_version; False: exactly one bound control
    judges_many: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def matches_lock(self) -> bool:
        """Whether the SQL is byte for byte the released text its sha256 records."""
        return matches_sha256(self.path, self.sha256)


def matches_sha256(path: Path, sha256: str | None) -> bool:
    """Whether the file is byte for byte the text a release's sha256 records."""
    return bool(sha256) and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def load_chain(ref: str, root: Path) -> Chain:
    """`name@version`, from `root/_chains`, else from the packaged catalogue."""
    from cfgmon.controls.catalogue import queries_dir

    name, _, version = ref.partition("@")
    for base in dict.fromkeys((root, queries_dir())):
        folder = base / CHAINS_FOLDER / name
        if (folder / "chain.toml").is_file():
            return _chain_versions(folder).get(version) or _no_version(ref, folder)
    raise ControlError(f"unknown chain {name!r} (no {CHAINS_FOLDER}/{name}/chain.toml)")


def _no_version(ref: str, folder: Path):
    known = ", ".join(sorted(_chain_versions(folder)))
    raise ControlError(f"chain {ref} is not released; versions: {known}")


@functools.cache
def _chain_versions(folder: Path) -> dict[str, Chain]:
    try:
        meta = tomllib.loads((folder / "chain.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ControlError(f"{folder.name}/chain.toml cannot be read: {exc}") from None
    chains = {}
    for entry in meta.get("versions", ()):
        path = folder / entry["sql"]
        chain = Chain(folder.name, str(entry["version"]), path.read_text(encoding="utf-8"),
                      path, entry.get("sha256", ""), entry.get("judges", "one") == "many")
        chains[chain.version] = chain
    return chains


def validate_chain(sql: str, where: str, *, forbidden: set[str]) -> None:
    """A chain reads its control only through cfgmon_chain_control and keyed tables.

    Refused: a string literal that names a control, an event source (`….amazonaws.com`)
    or an event (`forbidden` holds the catalogue's control ids and event names); a read
    of a derived table without `<alias>.control_id = …` in its own SELECT; no read of
    the binding table at all.
    """
    import sqlglot  # here: a check of released chains parses no SQL (see catalogue)
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    for literal in tree.find_all(exp.Literal):
        text = literal.this if literal.is_string else ""
        if text in forbidden or text.lower().endswith(".amazonaws.com"):
            raise ControlError(f"{where}: a chain names no control, event source or event "
                               f"(it has the literal {text!r}); bind it in cfgmon_chain_control")
    tables = list(tree.find_all(exp.Table))
    if not any(t.name == BINDING_TABLE for t in tables):
        raise ControlError(f"{where}: a chain reads its control from {BINDING_TABLE}")
    for table in tables:
        if table.name in KEYED_TABLES and not _keyed_by_control(table):
            raise ControlError(
                f"{where}: reads {table.name} without filtering on the control "
                f"({table.alias_or_name}.control_id = …)"
            )


def _keyed_by_control(table: exp.Table) -> bool:
    from sqlglot import exp

    select = table.find_ancestor(exp.Select)
    if select is None:
        return False
    alias = table.alias_or_name
    conditions = [j.args.get("on") for j in select.args.get("joins") or ()]
    conditions.append(select.args.get("where"))
    for condition in filter(None, conditions):
        for eq in condition.find_all(exp.EQ):
            for side in (eq.left, eq.right):
                if isinstance(side, exp.Column) and side.name == "control_id" and side.table == alias:
                    return True
    return False
