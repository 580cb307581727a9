"""Patched NodePools still validate against the real Karpenter NodePool CRD (schema only; the sandbox API server
checks the same on every PATCH)."""
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
import yaml

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.metering import LedgerEntry
from chalice_app.budget.planner import plan_budget, status_patch
from chalice_app.budget.prices import PriceBook
from tests.budget.factories import EC2_TYPES, ON_DEMAND, nodepool
from sandbox.kubeapi.patches import merge_patch

CRD = Path(__file__).resolve().parents[3] / "shared" / "crds" / "karpenter.sh_nodepools.yaml"
pytestmark = pytest.mark.skipif(not CRD.exists(), reason="../shared/crds is absent")
NOW = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def schema():
    crd = yaml.safe_load(CRD.read_text())
    [v1] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return v1["schema"]["openAPIV3Schema"]


def patched(pool: dict, budget: dict) -> dict:
    catalog = [instance_type_from_ec2(item) for item in EC2_TYPES]
    plan = plan_budget(parse_budget(budget), [pool], [], {pool["metadata"]["name"]: LedgerEntry(spent=10.0,
                       metered_at=NOW)}, catalog, PriceBook(on_demand=ON_DEMAND), NOW)
    patch = status_patch(plan.pools[0], apply_limits=True)
    assert "spec" in patch, plan.pools[0].decision.reasons
    return merge_patch(pool, patch)


def test_cpu_and_memory_limits_validate(schema):
    result = patched(nodepool(cpu="10"), {"amount": 500, "nodepools": {"default": {"amount": 500}}})
    jsonschema.validate(result, schema)
    assert set(result["spec"]["limits"]) == {"cpu", "memory"}


def test_gpu_limit_validates(schema):
    pool = nodepool("gpu", cpu="10", requirements=[
        {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]}])
    result = patched(pool, {"amount": 500, "nodepools": {"gpu": {"amount": 500}}})
    jsonschema.validate(result, schema)
    assert int(result["spec"]["limits"]["nvidia.com/gpu"]) >= 1


def test_the_schema_check_can_fail(schema):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(merge_patch(nodepool(), {"spec": {"limits": {"cpu": "plenty"}}}), schema)
