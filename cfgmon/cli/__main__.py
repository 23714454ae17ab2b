"""`python -m cfgmon.cli`: the same as the `cfgmon` script."""

from cfgmon.cli import script

raise SystemExit(script())
