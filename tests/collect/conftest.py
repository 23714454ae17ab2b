"""Fixtures of the collector tests: the seeded world, collecting it, querying the result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from collect_scenario import FIRST, SECOND, World, seed_world
from collectrun import collect_into as collect_shared
from dbrows import query_rows
from webserver import serving

from cfgmon.aws import ClientFactory, CollectionReport


def collect_into(
    endpoint: str, db_path: Path, regions=(FIRST, SECOND), clients: ClientFactory | None = None,
    **kwargs,
) -> CollectionReport:
    """Collect the caller's account (moto's default) into db_path, the two seeded regions."""
    return collect_shared(endpoint, db_path, regions, clients, **kwargs)


query_db = query_rows  # the collector tests' name for it


@pytest.fixture
def world(aws) -> World:
    return seed_world(aws)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "inventory.duckdb"


@pytest.fixture
def run_collect(aws, db_path):
    """Collect into db_path; returns the CollectionReport."""

    def run(regions=(FIRST, SECOND), clients: ClientFactory | None = None, **kwargs):
        return collect_into(aws.endpoint, db_path, regions, clients, **kwargs)

    return run


@pytest.fixture
def query(db_path):
    """Run SQL against the collected database; returns a list of dicts."""
    return lambda sql, params=(): query_db(db_path, sql, params)


@dataclass
class Collected:
    world: World
    report: CollectionReport
    db_path: Path

    def query(self, sql: str, params=()) -> list[dict]:
        return query_db(self.db_path, sql, params)


@pytest.fixture(scope="module")
def collected(aws_module, tmp_path_factory) -> Collected:
    """The world seeded and collected once, for tests that only read the result."""
    world = seed_world(aws_module)
    db_path = tmp_path_factory.mktemp("collected") / "inventory.duckdb"
    return Collected(world, collect_into(aws_module.endpoint, db_path), db_path)


@pytest.fixture
def web_server(tmp_path):
    """Python's http.server on 127.0.0.1 and a free port: it answers HTTP, but not as AWS."""
    folder = tmp_path / "site"
    folder.mkdir()
    with serving(folder=folder) as url:
        yield url
