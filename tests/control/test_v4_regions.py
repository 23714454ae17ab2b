"""alarm_chain v4 against v3 on regions: the regions an account uses are those it has
enabled (rendering.py), whatever collect was narrowed to."""

from cfgmon.simulation import CIS_CONFIG_PATTERN

CONTROL = "config_configuration_changes_monitoring"

V4 = f"{CONTROL}@5"   # on alarm_chain@4
V3 = f"{CONTROL}@4"   # on alarm_chain@3


def narrowed(*regions: str) -> str:
    clause = " || ".join(f'($.awsRegion = "{region}")' for region in regions)
    return CIS_CONFIG_PATTERN.removesuffix(" }") + f" && ({clause}) }}"


def one(inspector, control):
    [result] = inspector.check("--control", control)
    return result


def test_collecting_fewer_regions_does_not_make_a_narrowed_filter_cover(inspector, seeder):
    # A multi-region trail records AWS Config changes made in every enabled region
    # (moto's account has 17 enabled); the filter only counts eu-west-1's. Collecting
    # with `--region eu-west-1` is the operator's choice, not the account's usage.
    seeder.chain("eu-west-1", pattern=narrowed("eu-west-1"))
    inspector.collect("eu-west-1")
    v3, v4 = one(inspector, V3), one(inspector, V4)
    assert v3["status"] == "NON_COMPLIANT", v3["reason"]      # v3: right
    assert v4["status"] != "COMPLIANT", v4["reason"]          # v4: COMPLIANT


def test_a_region_the_account_has_not_enabled_is_not_one_it_uses(
        inspector, seeder, enabled_regions):
    # DescribeRegions lists ap-east-1 as not opted in: no call can be made there, so
    # no event happens there; asking collect for it must not change the verdict
    enabled_regions("us-east-1", "eu-west-1")
    seeder.chain("us-east-1", pattern=narrowed("us-east-1", "eu-west-1"))
    inspector.collect("us-east-1", "eu-west-1")
    before = one(inspector, V4)
    assert before["status"] == "COMPLIANT", before["reason"]
    inspector.collect("us-east-1", "eu-west-1", "ap-east-1")
    after = one(inspector, V4)
    assert after["status"] == "COMPLIANT", after["reason"]


def test_a_record_missed_in_every_region_is_not_said_to_be_missed_in_one(inspector, seeder):
    # misses PutConfigurationRecorder everywhere, the other three in eu-west-1 only
    pattern = ("{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder)"
               " || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel))"
               ' && ($.awsRegion = "us-east-1") }')
    seeder.chain("us-east-1", pattern=pattern)
    inspector.collect("us-east-1", "eu-west-1")
    result = one(inspector, V4)
    assert result["status"] == "NON_COMPLIANT"
    reason = result["reason"]
    # v4 ended "... PutConfigurationRecorder (in eu-west-1)": every name, one region
    assert reason.endswith(
        "misses PutConfigurationRecorder; StopConfigurationRecorder, DeleteDeliveryChannel,"
        " PutDeliveryChannel (in every region but us-east-1)"), reason


def test_a_record_missed_in_few_regions_names_them(inspector, seeder, enabled_regions):
    enabled_regions("us-east-1", "eu-west-1", "eu-west-2")
    seeder.chain("us-east-1", pattern=narrowed("us-east-1", "eu-west-1"))
    inspector.collect("us-east-1")
    reason = one(inspector, V4)["reason"]
    assert reason.endswith("PutConfigurationRecorder (in eu-west-2)"), reason
