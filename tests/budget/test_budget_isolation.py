"""Isolation per NodePool: whatever is written into one NodePool's limits, requirements, costguard annotations,
labels or nodeClassRef, every other budgeted pool gets exactly the limits it gets without it, and the bad pool is
that pool's problem, named with its field (never the run's failure). Pure planner, no I/O."""
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chalice_app.budget.catalog import instance_type_from_ec2
from chalice_app.budget.document import parse_budget
from chalice_app.budget.metering import LedgerEntry, running_nodes
from chalice_app.budget.planner import plan_budget
from chalice_app.budget.prices import PriceBook
from chalice_app.budget.service import priced_types
from chalice_app.cli.budget import plan_rows
from chalice_app.kube.names import ANNOTATION_PREFIX, BUDGET_STATUS, HEADROOM, ORIGINAL_LIMITS
from tests.budget.factories import EC2_TYPES, ON_DEMAND, nodeclaim, nodepool

NOW = datetime(2026, 11, 26, 20, tzinfo=timezone.utc)
CATALOG = [instance_type_from_ec2(item) for item in EC2_TYPES]
DOCUMENT = parse_budget({"amount": 1000, "mode": "enforce", "nodepools": {
    "default": {"share": 0.5, "min_cpu": 4, "max_cpu": 200}, "spot": {"amount": 300}, "hostile": {"amount": 200}}})
RUNNING = running_nodes([nodeclaim(f"d-{i}") for i in range(6)] + [nodeclaim("h-0", pool="hostile")], [],
                        {t.name: t for t in CATALOG})
ENTRIES = {"default": LedgerEntry(spent=400.0, metered_at=NOW), "spot": LedgerEntry(spent=50.0, metered_at=NOW)}
HOSTILE = ("²", "9" * 5000, "-1", "1e308", "Infinity", "NaN", "100Ei", "0.0000001m", "", " ", "null", "In", "Gt",
           "<!channel>", '{"cpu": "²"}', '{"cpu": 1e999}', "[]", "Mon-Fri 07:00-19:00 America: 4 vCPU, 8Gi",
           "always: ² vCPU, 9Gi")
text = st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE))
anything = st.one_of(text, st.integers(), st.none(), st.lists(text, max_size=3),
                     st.dictionaries(text, text, max_size=2))
requirement = st.fixed_dictionaries({}, optional={"key": st.one_of(text, st.sampled_from(
    ["karpenter.sh/capacity-type", "kubernetes.io/arch", "node.kubernetes.io/instance-type",
     "karpenter.k8s.aws/instance-cpu", "karpenter.k8s.aws/instance-generation"])),
    "operator": st.one_of(text, st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])),
    "values": st.one_of(st.lists(anything, max_size=3), anything), "minValues": anything})
limits = st.one_of(st.fixed_dictionaries({}, optional={"cpu": anything, "memory": anything,
                                                      "nvidia.com/gpu": anything}), anything)
annotations = st.fixed_dictionaries({}, optional={key: text for key in (
    HEADROOM, ORIGINAL_LIMITS, BUDGET_STATUS, ANNOTATION_PREFIX + "uptime", ANNOTATION_PREFIX + "downtime")})
labels = st.dictionaries(text, text, max_size=3)


@st.composite
def hostile_pool(draw):
    pool = nodepool("hostile", annotations=draw(annotations))
    pool["metadata"]["labels"] = draw(labels)
    spec = pool["spec"]
    spec["limits"] = draw(limits)
    template = spec["template"]
    template["metadata"] = {"labels": draw(labels)}
    template["spec"]["requirements"] = draw(st.one_of(st.lists(requirement, max_size=4), anything))
    template["spec"]["nodeClassRef"] = draw(st.one_of(st.just(template["spec"]["nodeClassRef"]),
                                                      st.fixed_dictionaries({"name": anything}), anything))
    if draw(st.booleans()):
        spec["replicas"] = draw(anything)
    return pool


def others():
    return [nodepool("default"), nodepool("spot", cpu="1000", requirements=[
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.xlarge"]}])]


def plan(pools):
    return plan_budget(DOCUMENT, pools, RUNNING, ENTRIES, CATALOG,
                       PriceBook(on_demand=ON_DEMAND, spot={("m5.xlarge", "us-east-1a"): 0.07}), NOW)


def decided(budget_plan):
    return {p.pool: (p.decision.proposed if p.decision else None, p.decision.change if p.decision else None,
                     p.problem, p.status, tuple(a.text for a in p.alerts)) for p in budget_plan.pools}


WITHOUT = decided(plan(others()))


@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_pool())
def test_one_nodepools_fields_never_change_the_other_pools_limits(hostile):
    pools = others() + [hostile]
    on_demand, spot = priced_types(DOCUMENT, pools, RUNNING, CATALOG)  # never raises for one pool's fields
    assert priced_types(DOCUMENT, others(), RUNNING, CATALOG)[0] <= on_demand
    result = plan(pools)
    with_it = decided(result)
    assert {name: with_it[name] for name in WITHOUT} == WITHOUT
    [bad] = [p for p in result.pools if p.pool == "hostile"]
    if bad.problem:
        assert len(bad.problem) < 600 and bad.status["problem"] == bad.problem
        assert any(a.kind == "error" for a in bad.alerts)


def _with(change):
    pool = nodepool("hostile")
    change(pool)
    return pool


def _annotate(key, value):
    return lambda pool: pool["metadata"]["annotations"].update({key: value})


def _requirement(**fields):
    return lambda pool: pool["spec"]["template"]["spec"]["requirements"].append(
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"], **fields})


@pytest.mark.parametrize("change, named", [
    (lambda pool: pool["spec"]["limits"].update(cpu="²"), "spec.limits.cpu: '²'"),
    (lambda pool: pool["spec"]["limits"].update(memory="9" * 5000 + "Gi"), "spec.limits.memory: '999"),
    (lambda pool: pool["spec"].update(limits="lots"), "spec.limits: 'lots'"),
    (_requirement(operator="Maybe"), "requirements[4].operator: 'Maybe'"),
    (_requirement(values="amd64"), "requirements[4].values: 'amd64'"),
    (_requirement(minValues="two"), "requirements[4].minValues: 'two'"),
    (lambda pool: pool["spec"]["template"]["spec"].update(nodeClassRef="default"), "nodeClassRef: 'default'"),
    (lambda pool: pool["spec"].update(replicas="3"), "spec.replicas: '3'"),
])
def test_a_malformed_field_is_that_pools_problem_naming_the_field_and_value(change, named):
    result = plan(others() + [_with(change)])
    [bad] = [p for p in result.pools if p.pool == "hostile"]
    assert bad.decision is None and named in bad.problem and "limits kept" in bad.problem
    assert len(bad.problem) < 600
    [error] = [a for a in bad.alerts if a.kind == "error"]
    assert named in error.text
    assert named in {row["nodepool"]: row for row in plan_rows(result)}["hostile"]["why"]  # `costguard budget plan`
    assert {name: decided(result)[name] for name in WITHOUT} == WITHOUT



def test_a_hostile_value_named_in_the_problem_reaches_slack_inert():
    from chalice_app.budget.report import budget_message
    from tests.slackfakes import assert_inert
    hostile = "<!channel> <https://x.example|y>"
    result = plan(others() + [_with(lambda pool: pool["spec"]["limits"].update(cpu=hostile))])
    [bad] = [p for p in result.pools if p.pool == "hostile"]
    assert "spec.limits.cpu" in bad.problem
    assert_inert(budget_message(result, list(bad.alerts), {}))
