"""The off-hours demo chapter: evening to zero, morning back exactly, on the sandbox."""
import io
from datetime import datetime, timezone

from rich.console import Console

from sandbox import Sandbox
from sandbox import demo_offhours


def test_demo_evening_then_morning_restores_everything():
    console = Console(file=io.StringIO(), width=120)
    with Sandbox(functions=10, nodes=4) as sb, sb.activate():
        before = demo_offhours.snapshot(sb)
        evening = demo_offhours.evening(sb, console)
        parked = demo_offhours.snapshot(sb)
        morning = demo_offhours.morning(sb, console)
    assert evening["scaled_down"] == sum(1 for count in before.replicas.values() if count)
    assert set(parked.replicas.values()) == {0}
    assert all(parked.limits[name] == {"cpu": "0"} for name in demo_offhours.OPTED_IN_POOLS)
    assert parked.nodes == 0  # consolidation removed the emptied Karpenter nodes
    assert morning["replicas_restored"] and morning["limits_restored"]
    output = console.file.getvalue()
    assert "everything back as it was" in output and "scaled down" in output


def test_demo_evening_is_a_workday_followed_by_a_workday():
    evening = demo_offhours.demo_evening(datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc))  # a Friday
    assert (evening.strftime("%a %H:%M"), evening.date().isoformat()) == ("Mon 18:55", "2026-11-30")
