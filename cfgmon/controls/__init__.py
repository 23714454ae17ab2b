"""Controls: the catalogue of versioned queries, pattern coverage, running and recording."""

from cfgmon.controls.catalogue import Control, ControlVersion, load_catalogue, resolve
from cfgmon.controls.runner import ControlResult, run_controls
from cfgmon.errors import UsageError


def latest_versions() -> list[ControlVersion]:
    """The latest version of every control in the catalogue."""
    return [control.latest for control in load_catalogue().values()]


def known_frameworks() -> list[str]:
    """Every framework id some control maps: cis-aws@1.2.0 … cis-aws@7.0.0, securityhub."""
    ids = {i for control in load_catalogue().values() for i in control.framework_ids}
    cis = sorted((i for i in ids if i.startswith("cis-aws@")),
                 key=lambda i: tuple(int(p) for p in i.removeprefix("cis-aws@").split(".")))
    return cis + sorted(ids - set(cis))


def framework_id(text: str) -> str:
    """`cis-aws@5.0.0` as the user may write it (`CIS-AWS@v5.0.0`, `securityhub`), or an error."""
    wanted = text.strip().lower().replace("@v", "@")
    known = known_frameworks()
    if wanted not in known:
        raise UsageError(f"unknown framework {text!r}; known frameworks: {', '.join(known)}")
    return wanted


def framework_versions(framework: str) -> list[ControlVersion]:
    """The latest version of every control that maps `framework` (an id from framework_id)."""
    return [c.latest for c in load_catalogue().values() if framework in c.framework_ids]


__all__ = [
    "Control",
    "ControlResult",
    "ControlVersion",
    "framework_id",
    "framework_versions",
    "known_frameworks",
    "latest_versions",
    "load_catalogue",
    "resolve",
    "run_controls",
]
