"""The off-hours demo chapter: evening to zero, morning back exactly, on the sandbox."""
import io
from datetime import datetime, timezone

from rich.console import Console

from sandbox import Sandbox
from sandbox import demo_offhours
from tests.kubeapi.conftest import requires_crds


@requires_crds  # the NodePool CRD's scale subresource, printer columns and static mode come from ../shared/crds
def test_demo_evening_then_morning_restores_everything():
    console = Console(file=io.StringIO(), width=120)
    with Sandbox(functions=10, nodes=4) as sb, sb.activate():
        before = demo_offhours.snapshot(sb)
        evening = demo_offhours.evening(sb, console)
        parked = demo_offhours.snapshot(sb)
        morning = demo_offhours.morning(sb, console)
    assert evening["scaled_down"] == sum(1 for count in before.replicas.values() if count)
    assert set(parked.replicas.values()) == {0}  # `sleep`, woken at 23:10, parked again
    assert evening["woken_served"] and evening["reparked"] == 1
    assert all(parked.limits[name] == {"cpu": "0"} for name in demo_offhours.OPTED_IN_POOLS)
    assert parked.static_replicas == 0  # the static pool, parked through its replicas (back to 2: limits_restored)
    # consolidation removed the emptied Karpenter nodes but the one the do-not-disrupt backup pod keeps
    assert parked.nodes == 1 and evening["kept_node"]
    assert [line for line in evening["nodes_staying"] if line.startswith(evening["kept_node"])]
    # the never-consolidating default pool's empty NodeClaims: deleted by the 19:40 run, terminated by Karpenter
    assert evening["nodeclaims_deleted"] and len(evening["terminated"]) == len(evening["nodeclaims_deleted"])
    assert all(f", {demo_offhours.NEVER_CONSOLIDATED}, " in line for line in evening["nodeclaims_deleted"])
    assert morning["replicas_restored"] and morning["limits_restored"]
    output = console.file.getvalue()
    assert "everything back as it was" in output and "scaled down" in output and "parked again" in output


def test_demo_evening_is_a_workday_followed_by_a_workday():
    evening = demo_offhours.demo_evening(datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc))  # a Friday
    assert (evening.strftime("%a %H:%M"), evening.date().isoformat()) == ("Mon 18:55", "2026-11-30")
