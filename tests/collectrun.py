"""Collecting moto's default account through the library, in-process."""

from __future__ import annotations

from pathlib import Path

import boto3

from cfgmon.aws import ClientFactory, CollectionReport, caller_target, collect
from cfgmon.store import open_database


def collect_into(
    endpoint: str, db_path: Path, regions, clients: ClientFactory | None = None, **kwargs,
) -> CollectionReport:
    """Collect the caller's account (moto's default) into db_path through the library."""
    clients = clients or ClientFactory(endpoint_url=endpoint)
    session = boto3.Session(region_name="us-east-1")
    con = open_database(db_path)
    try:
        target = caller_target(session, clients)
        return collect(con, [target], clients=clients, regions=regions, **kwargs)
    finally:
        con.close()
