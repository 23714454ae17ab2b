"""Errors of talking to AWS that stop a collection before it starts."""

from cfgmon.errors import CfgmonError


class CollectError(CfgmonError):
    """No credentials, an unknown profile or region, an account that cannot be identified."""
