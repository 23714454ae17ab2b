"""Fixtures of the collector tests: the seeded world, collecting it, querying the result."""

from __future__ import annotations

import boto3
import pytest
from collect_scenario import FIRST, SECOND, World, seed_world

from cfgmon.aws import ClientFactory, caller_target, collect
from cfgmon.store import open_database


@pytest.fixture
def world(aws) -> World:
    return seed_world(aws)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "inventory.duckdb"


@pytest.fixture
def run_collect(aws, db_path):
    """Collect the default account into db_path; returns the CollectionReport."""

    def run(regions=(FIRST, SECOND), clients: ClientFactory | None = None, **kwargs):
        clients = clients or ClientFactory(endpoint_url=aws.endpoint)
        session = boto3.Session(region_name="us-east-1")
        con = open_database(db_path)
        try:
            target = caller_target(session, clients)
            return collect(con, [target], clients=clients, regions=regions, **kwargs)
        finally:
            con.close()

    return run


@pytest.fixture
def query(db_path):
    """Run SQL against the collected database; returns a list of dicts."""

    def run(sql: str, params=()):
        con = open_database(db_path, read_only=True)
        try:
            cursor = con.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()

    return run
