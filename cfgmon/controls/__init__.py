"""Controls: the catalogue of versioned queries, pattern coverage, running and recording."""

from cfgmon.controls.catalogue import Control, ControlVersion, load_catalogue, resolve
from cfgmon.controls.runner import ControlResult, run_controls


def latest_versions() -> list[ControlVersion]:
    """The latest version of every control in the catalogue."""
    return [control.latest for control in load_catalogue().values()]


__all__ = [
    "Control",
    "ControlResult",
    "ControlVersion",
    "latest_versions",
    "load_catalogue",
    "resolve",
    "run_controls",
]
