"""Released SQL and catalogue files are never edited: each one's sha256 sits in the
metadata (control.toml, chain.toml), and a changed file fails here. A fix is a new
version (a new vN.sql, a new catalogue file), never an edit."""

from __future__ import annotations

import hashlib
import tomllib

import pytest

from cfgmon.controls.catalogue import queries_dir
from cfgmon.controls.chains import CHAINS_FOLDER


def _released_files():
    root = queries_dir()
    found = []
    for toml in sorted(root.glob("*/control.toml")) + sorted(root.glob(f"{CHAINS_FOLDER}/*/chain.toml")):
        meta = tomllib.loads(toml.read_text(encoding="utf-8"))
        for entry in meta.get("versions", ()):
            named = [entry[k] for k in ("sql", "catalogue") if k in entry]
            recorded = entry.get("sha256", {})
            if isinstance(recorded, str):       # a chain version: one file
                recorded = {entry["sql"]: recorded}
            assert set(named) <= set(recorded), (
                f"{toml.parent.name} v{entry['version']}: no sha256 for "
                f"{sorted(set(named) - set(recorded))}")
            found += [(toml.parent, name, digest) for name, digest in recorded.items()]
    return found


FILES = _released_files()


@pytest.mark.parametrize(("folder", "name", "digest"), FILES,
                         ids=[f"{f.name}/{n}" for f, n, _ in FILES])
def test_a_released_file_is_unchanged(folder, name, digest):
    actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert actual == digest, (
        f"{folder.name}/{name} was edited after its release (sha256 {actual}); "
        "restore it and release the change as a new version"
    )


def test_every_chain_and_control_version_is_locked():
    assert any(f.name == "alarm_chain" for f, _, _ in FILES)
    assert {n for f, n, _ in FILES if f.name == "config_configuration_changes_monitoring"} >= {
        "v1.sql", "catalogue-v1.json"}
