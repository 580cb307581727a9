"""Karpenter v1 semantics in the budget's catalog and estimator: what a pool may launch, in which capacity type,
on which architecture, with which accelerators and volumes — and that no limit comes from a price it could not pay."""
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from chalice_app.budget.aws_prices import PriceSource
from chalice_app.budget.catalog import allowed_instance_types, capacity_types, instance_type_from_ec2, requirements_of
from chalice_app.budget.document import parse_budget
from chalice_app.budget.estimate import estimate_pricing, launch_offerings, nodepool_unit_prices
from chalice_app.budget.metering import running_nodes
from chalice_app.budget.nodeclass import nodeclass_costs
from chalice_app.budget.planner import plan_budget
from chalice_app.budget.prices import PriceBook, PriceUnavailable, products_filters, storage_filters
from tests.budget.factories import EC2_TYPES, ON_DEMAND, ec2_type, nodeclaim, nodepool, price_item

AMD = {**ec2_type("g4ad.xlarge", 4, 16384, gpus=1), "GpuInfo": {"Gpus": [{"Name": "Radeon Pro V520",
                                                                           "Manufacturer": "AMD", "Count": 1}]}}
INF = {**ec2_type("inf2.xlarge", 4, 16384), "NeuronInfo": {"NeuronDevices": [{"Count": 1, "Name": "Inferentia2"}]}}
CATALOG = [instance_type_from_ec2(item) for item in [*EC2_TYPES, AMD, INF]]
SPOT = {(name, zone): round(price * share, 4) for name, price in ON_DEMAND.items()
        for zone, share in (("us-east-1a", 0.35), ("us-east-1b", 0.4))}
BOOK = PriceBook(on_demand={**ON_DEMAND, "g4ad.xlarge": 0.379, "inf2.xlarge": 0.758}, spot=SPOT, storage={"gp3": 0.08})
NOW = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
UNCONSTRAINED = nodepool(requirements=[])


def nodeclass(mappings=None, reservations=(), ami="al2023@latest"):
    spec = {"amiSelectorTerms": [{"alias": ami}], "role": "r"}
    if mappings is not None:
        spec["blockDeviceMappings"] = mappings
    return {"metadata": {"name": "default"}, "spec": spec, "status": {"capacityReservations": [
        {"id": f"cr-{i:017x}", "instanceType": t, "availabilityZone": "us-east-1a", "instanceMatchCriteria": "open",
         "ownerID": "123456789012", "state": "active"} for i, t in enumerate(reservations)]}}


def test_an_unconstrained_pool_is_priced_with_spot_and_arm64_offerings():
    kind, priced, why = launch_offerings(UNCONSTRAINED, CATALOG, BOOK, nodeclass_costs(nodeclass()))
    names = {t.name for t, _ in priced}
    assert kind == "spot" and "m6g.xlarge" in names and "m5.xlarge" in names
    assert dict((t.name, p) for t, p in priced)["m6g.xlarge"] == pytest.approx((0.154 * 0.35 + 0.154 * 0.4) / 2)
    assert any("no karpenter.sh/capacity-type requirement" in line for line in why)
    assert any("amd64, arm64 (no kubernetes.io/arch requirement" in line for line in why)
    assert any("reserved: the EC2NodeClass selects no capacity reservation" in line for line in why)


def test_spot_without_any_spot_price_falls_to_on_demand_and_arch_in_narrows():
    book = PriceBook(on_demand=ON_DEMAND)
    pool = nodepool(requirements=[{"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}])
    kind, priced, _ = launch_offerings(pool, CATALOG, book, None)
    assert kind == "on-demand" and [t.name for t, _ in priced] == ["m6g.xlarge"]


def test_reserved_only_pool_is_priced_only_where_a_reservation_is_selected():
    pool = nodepool(requirements=[{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]}])
    with pytest.raises(PriceUnavailable, match="selects no capacity reservation"):
        estimate_pricing(pool, CATALOG, BOOK, "median", [], nodeclass_costs(nodeclass()))
    costs = nodeclass_costs(nodeclass(reservations=["m5.xlarge"]))
    pricing = estimate_pricing(pool, CATALOG, BOOK, "median", [], costs)
    # an ODCR is billed at the on-demand rate; the node also pays its 20 GiB gp3 root volume
    assert pricing.capacity_type == "reserved"
    assert pricing.per_vcpu_hour == pytest.approx((0.192 + 20 * 0.08 / 730) / 4)
    known = PriceBook(on_demand=ON_DEMAND, reserved={"m5.xlarge": 0.12}, storage={"gp3": 0.08})
    assert estimate_pricing(pool, CATALOG, known, "median", [], costs).per_vcpu_hour == pytest.approx(
        (0.12 + 20 * 0.08 / 730) / 4)


def test_an_allowed_reservation_is_preferred_over_spot():
    kind, priced, _ = launch_offerings(UNCONSTRAINED, CATALOG, BOOK, nodeclass_costs(nodeclass(reservations=["c5.xlarge"])))
    assert kind == "reserved" and [t.name for t, _ in priced] == ["c5.xlarge"]


@pytest.mark.parametrize("operator,value,expected", [
    ("Gte", "4", {"c5.xlarge", "m5.xlarge", "m5.2xlarge"}), ("Lte", "2", {"t3.large"}),
    ("Gt", "4", {"m5.2xlarge"}), ("Lt", "4", {"t3.large"})])
def test_numeric_operators(operator, value, expected):
    pool = nodepool(requirements=[
        {"key": "karpenter.k8s.aws/instance-cpu", "operator": operator, "values": [value]},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["c5", "m5", "t3"]}])
    assert {t.name for t in allowed_instance_types(pool, CATALOG)} == expected


def test_exists_and_does_not_exist_on_a_label_only_some_types_have():
    gpu = nodepool(requirements=[{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Exists"}])
    plain = nodepool(requirements=[{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "DoesNotExist"}])
    assert {t.name for t in allowed_instance_types(gpu, CATALOG)} == {"g4dn.xlarge", "g4ad.xlarge"}
    assert "g4dn.xlarge" not in {t.name for t in allowed_instance_types(plain, CATALOG)}
    assert "m6g.xlarge" in {t.name for t in allowed_instance_types(plain, CATALOG)}


def test_amd_gpus_and_neuron_devices_keep_their_vendors_resource():
    amd_pool = nodepool(requirements=[
        {"key": "karpenter.k8s.aws/instance-gpu-manufacturer", "operator": "In", "values": ["amd"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}])
    pricing = estimate_pricing(amd_pool, CATALOG, BOOK, "median", [], None)
    assert set(pricing.accelerators) == {"amd.com/gpu"} and pricing.accelerators["amd.com/gpu"] == pytest.approx(0.379)
    document = parse_budget({"amount": 1000, "nodepools": {"default": {"amount": 1000}}})
    [plan] = plan_budget(document, [amd_pool], [], {}, CATALOG, BOOK, NOW).pools
    limits = plan.decision.proposed.as_spec()
    assert "amd.com/gpu" in limits and "nvidia.com/gpu" not in limits
    claim = nodeclaim("a", instance_type="g4ad.xlarge")
    claim["status"]["capacity"]["amd.com/gpu"] = "1"
    [node] = running_nodes([claim], [], {t.name: t for t in CATALOG})
    assert node.gpus == 1
    [neuron] = running_nodes([nodeclaim("n", instance_type="inf2.xlarge")], [], {t.name: t for t in CATALOG})
    assert neuron.gpus == 1  # from the catalog: aws.amazon.com/neuron


def test_volumes_from_block_device_mappings_or_the_ami_family_default():
    assert nodeclass_costs(nodeclass()).volumes == (("gp3", 20.0),)
    assert nodeclass_costs(nodeclass(ami="bottlerocket@latest")).volumes == (("gp3", 4.0), ("gp3", 20.0))
    custom = nodeclass_costs(nodeclass(mappings=[
        {"deviceName": "/dev/xvda", "rootVolume": True, "ebs": {"volumeSize": "100Gi", "volumeType": "gp3"}},
        {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": "1Ti"}},
        {"deviceName": "/dev/xvdc", "ebs": {"snapshotID": "snap-0123456789abcdef0"}}]))
    assert custom.volumes == (("gp3", 100.0), ("gp2", 1024.0))
    assert any("snapshot" in note for note in custom.notes)


def test_plan_shows_capacity_arch_ebs_and_overhead_lines():
    document = parse_budget({"amount": 1000, "node_overhead_hourly": 0.02, "savings_discount_percent": 20,
                             "nodepools": {"default": {"amount": 1000}}})
    [plan] = plan_budget(document, [UNCONSTRAINED], [], {}, CATALOG, BOOK, NOW,
                         nodeclasses={"default": nodeclass_costs(nodeclass())}).pools
    text = "\n".join(plan.assumed)
    assert "Karpenter launches spot first" in text and "arm64" in text
    assert "EBS per node: 20 GiB (20 GiB gp3)" in text and "per-node overhead: 0.0200 USD/h" in text
    assert "on-demand compute at 80 % of list" in text


def test_unit_prices_for_other_features():
    per_vcpu, per_gib = nodepool_unit_prices(nodepool(), CATALOG, PriceBook(on_demand=ON_DEMAND), estimator="median")
    assert per_vcpu == pytest.approx(0.048) and per_gib == pytest.approx(0.048 / 4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([
    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
    {"key": "karpenter.sh/capacity-type", "operator": "NotIn", "values": ["spot"]},
    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]},
    {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
    {"key": "kubernetes.io/arch", "operator": "NotIn", "values": ["arm64"]},
    {"key": "karpenter.k8s.aws/instance-cpu", "operator": "Lte", "values": ["4"]},
    {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m", "g"]},
    {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "DoesNotExist"},
]), max_size=4), st.booleans(), st.booleans())
def test_no_limit_rests_on_a_price_the_pool_could_not_pay(requirements, reservation, spot_prices):
    pool = nodepool(requirements=requirements)
    costs = nodeclass_costs(nodeclass(reservations=["m5.xlarge"] if reservation else []))
    book = BOOK if spot_prices else PriceBook(on_demand=BOOK.on_demand, storage=BOOK.storage)
    allowed = allowed_instance_types(pool, CATALOG)
    ebs = 20 * 0.08 / 730

    def options(kind):
        candidates = [t for t in allowed if kind != "reserved" or (reservation and t.name == "m5.xlarge")]
        return [(book.hourly(t.name, kind) + ebs) / t.vcpus for t in candidates
                if book.hourly(t.name, kind) is not None]

    kinds = capacity_types(requirements_of(pool))
    try:
        pricing = estimate_pricing(pool, CATALOG, book, "cheapest", [], costs)
    except PriceUnavailable:
        assert not any(options(kind) for kind in kinds)  # nothing it may launch has a price: limits are kept
        return
    assert pricing.capacity_type in kinds
    # Karpenter's preference: no capacity type before the chosen one had anything to launch
    assert not any(options(kind) for kind in kinds[:kinds.index(pricing.capacity_type)])
    assert pricing.per_vcpu_hour == pytest.approx(min(options(pricing.capacity_type)))


def test_arm64_is_priced_from_its_own_pricing_api_product():
    pricing = boto3.client("pricing", region_name="us-east-1")
    with Stubber(pricing) as stub:
        for name, usd in (("m5.xlarge", 0.192), ("m6g.xlarge", 0.154)):
            stub.add_response("get_products", {"PriceList": [price_item(name, usd)], "FormatVersion": "aws_v1"},
                              {"ServiceCode": "AmazonEC2", "Filters": products_filters(name, "us-east-1"),
                               "FormatVersion": "aws_v1"})
        stub.add_response("get_products", {"PriceList": [STORAGE_ITEM], "FormatVersion": "aws_v1"},
                          {"ServiceCode": "AmazonEC2", "Filters": storage_filters("gp3", "us-east-1"),
                           "FormatVersion": "aws_v1"})
        source = PriceSource(boto3.session.Session(region_name="us-east-1"), "us-east-1", None, pricing=pricing,
                             ec2=object())
        book = source.price_book({"m5.xlarge", "m6g.xlarge"}, set(), NOW, {"gp3"})
        stub.assert_no_pending_responses()
    assert book.on_demand == {"m5.xlarge": pytest.approx(0.192), "m6g.xlarge": pytest.approx(0.154)}
    assert book.storage == {"gp3": pytest.approx(0.08)}


STORAGE_ITEM = (
    '{"product": {"productFamily": "Storage", "sku": "EBSGP3", "attributes": {"volumeApiName": "gp3", '
    '"regionCode": "us-east-1", "volumeType": "General Purpose"}}, "serviceCode": "AmazonEC2", "terms": {"OnDemand": '
    '{"EBSGP3.JRTCKXETXF": {"priceDimensions": {"EBSGP3.JRTCKXETXF.6YS6EN2CT7": {"unit": "GB-Mo", '
    '"pricePerUnit": {"USD": "0.0800000000"}, "description": "$0.08 per GB-month of General Purpose (gp3)"}}}}}}')


def test_min_values_keeps_the_price_of_the_nth_cheapest_distinct_value():
    pool = nodepool(requirements=[
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["c5", "m5", "r5"],
         "minValues": 2}])
    pricing = estimate_pricing(pool, CATALOG, PriceBook(on_demand=ON_DEMAND), "cheapest", [], None)
    assert pricing.per_vcpu_hour == pytest.approx(0.048)  # m5's 0.192/4, not c5's 0.17/4
    assert any("minValues 2 on karpenter.k8s.aws/instance-family" in line for line in pricing.assumed)


def test_plan_says_when_the_pools_ec2nodeclass_is_missing():
    document = parse_budget({"amount": 1000, "nodepools": {"default": {"amount": 1000}}})
    [plan] = plan_budget(document, [nodepool()], [], {}, CATALOG, BOOK, NOW).pools
    assert "EC2NodeClass default not listed: its EBS volumes are not counted" in plan.assumed
