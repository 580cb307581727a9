import pytest

from chalice_app.budget.catalog import allowed_instance_types, instance_type_from_ec2
from chalice_app.budget.prices import PriceBook, PriceUnavailable, on_demand_from_products, spot_from_history
from tests.budget.factories import EC2_TYPES, nodepool, price_item

CATALOG = [instance_type_from_ec2(item) for item in EC2_TYPES]


def names(pool):
    return sorted(t.name for t in allowed_instance_types(pool, CATALOG))


def test_labels_follow_karpenter():
    m5 = instance_type_from_ec2(EC2_TYPES[0])
    assert m5.labels["karpenter.k8s.aws/instance-category"] == "m"
    assert m5.labels["karpenter.k8s.aws/instance-generation"] == "5"
    assert m5.labels["karpenter.k8s.aws/instance-family"] == "m5"
    assert m5.gib_per_vcpu == 4


def test_guide_pool_allows_c_m_r_newer_than_gen_2_on_amd64():
    assert names(nodepool()) == ["c5.xlarge", "m5.2xlarge", "m5.xlarge", "r5.xlarge"]


def test_arch_and_family_and_notin_narrow_the_choice():
    pool = nodepool(requirements=[
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}])
    assert names(pool) == ["m6g.xlarge"]
    pool = nodepool(requirements=[
        {"key": "karpenter.k8s.aws/instance-family", "operator": "NotIn", "values": ["m5", "c5", "r5"]},
        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]}])
    # no arch requirement: Karpenter v1 allows arm64 (Graviton) too (issue 14; this pinned amd64 only before)
    assert names(pool) == ["g4dn.xlarge", "m6g.xlarge", "t3.large"]


def test_gpu_pool():
    pool = nodepool(requirements=[{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Exists"}])
    [gpu] = allowed_instance_types(pool, CATALOG)
    assert gpu.gpus == 1 and gpu.gpu_manufacturer == "nvidia"


def test_unknown_operator_is_named():
    pool = nodepool(requirements=[{"key": "karpenter.k8s.aws/instance-family", "operator": "Near",
                                   "values": ["m5"]}])
    with pytest.raises(ValueError, match="Near"):
        names(pool)


def test_on_demand_prices_from_get_products_items():
    prices = on_demand_from_products([price_item("m5.xlarge", 0.192), price_item("c5.xlarge", 0.17)])
    assert prices == {"m5.xlarge": pytest.approx(0.192), "c5.xlarge": pytest.approx(0.17)}


def test_malformed_price_item_is_an_error():
    with pytest.raises(PriceUnavailable, match="on-demand hourly USD price"):
        on_demand_from_products(['{"product": {}}'])


def test_newest_spot_price_wins_and_zones_fall_back_to_median():
    history = [
        {"InstanceType": "m5.xlarge", "AvailabilityZone": "us-east-1a", "SpotPrice": "0.05",
         "Timestamp": "2026-11-24T10:00:00Z"},
        {"InstanceType": "m5.xlarge", "AvailabilityZone": "us-east-1a", "SpotPrice": "0.07",
         "Timestamp": "2026-11-24T12:00:00Z"},
        {"InstanceType": "m5.xlarge", "AvailabilityZone": "us-east-1b", "SpotPrice": "0.09",
         "Timestamp": "2026-11-24T11:00:00Z"},
    ]
    book = PriceBook(on_demand={"m5.xlarge": 0.192}, spot=spot_from_history(history))
    assert book.hourly("m5.xlarge", "spot", "us-east-1a") == 0.07
    assert book.hourly("m5.xlarge", "spot", "us-east-1c") == pytest.approx(0.08)
    assert book.hourly("m5.xlarge", "on-demand") == 0.192
    assert book.planning_price("m5.xlarge", ("spot", "on-demand")) == pytest.approx(0.08)
    assert book.hourly("c5.xlarge", "spot") is None
