"""The regions an account's rendering uses when its regions were never listed
(rendering.py): those collected, and in the commercial partition the default ones."""

from __future__ import annotations

import duckdb
import pytest

from cfgmon.controls.rendering import DEFAULT_REGIONS, account_regions
from cfgmon.store.database import schema_sql


def regions_collected(*regions: str) -> tuple[str, ...]:
    con = duckdb.connect()
    con.execute(schema_sql())
    for region in regions:
        con.execute("INSERT INTO cfgmon_collection (account_id, region, service, started_at, "
                    "status) VALUES ('111111111111', ?, 'logs', now(), 'ok')", [region])
    [(account, found)] = account_regions(con).items()
    con.close()
    return found


def test_a_commercial_account_has_the_default_regions_and_its_opt_in_ones():
    assert regions_collected("eu-west-1", "ap-east-1") == tuple(sorted(
        {*DEFAULT_REGIONS, "ap-east-1"}))


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "eusc-de-east-1",
                                    "us-iso-east-1", "eu-isoe-west-1"])
def test_an_account_of_another_partition_keeps_the_regions_collected(region):
    assert regions_collected(region) == (region,)


def test_what_a_check_keeps_of_renderings_does_not_grow_with_accounts():
    # one catalogue judged for many accounts in the same regions: the renderings kept
    # (each some megabytes in 17 regions) and their layouts stay a few
    from cfgmon.controls import load_catalogue
    from cfgmon.controls.coverage import KEPT_REGIONAL_RENDERINGS, CatalogueBatch
    from cfgmon.controls.rendering import Rendering
    from cfgmon.patterns import compile_pattern

    version = load_catalogue()["config_configuration_changes_monitoring"].latest
    batch = CatalogueBatch([version.event_set()])
    pattern = compile_pattern('{ $.recipientAccountId = "111111111111" }')
    for n in range(20):
        rendering = Rendering(f"{100000000000 + n}", ("eu-west-1", "us-east-1"))
        batch.fold(batch.raw(pattern, rendering), rendering)
    assert len(batch._rendered) <= KEPT_REGIONAL_RENDERINGS
    assert len(batch._copies) == 1
