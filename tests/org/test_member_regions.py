"""An organisation trail's members are judged in their own enabled regions, and each
rendering of the catalogue in an account's regions is built once per check."""

from __future__ import annotations

import collections
import json

from org_scenario import create_organization, organization_trail_chain

from cfgmon.controls.coverage import KEPT_REGIONAL_RENDERINGS
from cfgmon.simulation import CIS_CONFIG_PATTERN

CONTROL = "config_configuration_changes_monitoring"
OPT_IN = ("ap-east-1", "me-south-1", "af-south-1", "eu-south-1", "ap-south-2", "il-central-1")


def narrowed(*regions: str) -> str:
    clause = " || ".join(f'($.awsRegion = "{region}")' for region in regions)
    return CIS_CONFIG_PATTERN.removesuffix(" }") + f" && ({clause}) }}"


def test_members_are_judged_in_their_own_regions_each_rendering_built_once(
        aws, collector, enabled_regions, monkeypatch):
    from cfgmon.controls import rendering

    org = create_organization(aws, members=len(OPT_IN))
    enabled_regions("us-east-1", "eu-west-1")
    for member, extra in zip(org.members, OPT_IN, strict=True):
        enabled_regions("us-east-1", "eu-west-1", extra, account=member)
    chain = organization_trail_chain(org)
    seeder = org.seeder(org.management)
    # the trail's log group: its chain filter narrowed to the management account's two
    # regions, and two metrics each fed by two region-narrowed filters
    seeder.metric_filter(chain.region, chain.log_group_name, chain.filter_name,
                         pattern=narrowed("us-east-1", "eu-west-1"),
                         metric_name=chain.metric_name, namespace=chain.namespace)
    for metric in ("m-one", "m-two"):
        for name, region in (("a", "us-east-1"), ("b", "eu-west-1")):
            seeder.metric_filter(chain.region, chain.log_group_name, f"{metric}-{name}",
                                 pattern=narrowed(region), metric_name=metric,
                                 namespace=chain.namespace)
    assert collector.collect("--organization").exit_code == 0
    built: collections.Counter = collections.Counter()
    texts = rendering.Rendering.texts

    def counting(self, events):
        if self.regions:
            built[self] += 1
        return texts(self, events)

    monkeypatch.setattr(rendering.Rendering, "texts", counting)
    result = collector.cli("check", "--db", collector.db, "--format", "json", "--control", CONTROL)
    assert result.exit_code in (0, 1), result.stderr
    verdicts = {r["account_id"]: r for r in json.loads(result.stdout)}
    assert verdicts[org.management]["status"] == "COMPLIANT", verdicts[org.management]["reason"]
    for member, extra in zip(org.members, OPT_IN, strict=True):
        assert verdicts[member]["status"] == "NON_COMPLIANT"
        assert verdicts[member]["reason"].endswith(f"(in {extra})"), verdicts[member]["reason"]
    # each account's regions differ: more renderings than are kept at once
    assert len(built) == 1 + len(org.members) > KEPT_REGIONAL_RENDERINGS
    assert set(built.values()) == {1}, built
