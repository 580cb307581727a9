"""The demo's interruption chapter, on a cluster of its own (a module's sandbox), as `make demo` has it: nodes other
tests warned about and drained would be consolidated too, and rightly alerted as the reclaims they were."""
import re

from rich.console import Console

from sandbox import demo_interruptions


def test_the_demo_step_shows_the_warning_and_the_follow_up(sb):
    console = Console(record=True, width=120)
    sb.sim.scale_function("sleep", 5)  # as the demo's load step does: a spot node now runs `sleep` replicas
    sb.sim.settle()
    with sb.activate():
        demo_interruptions.run(sb, console)
    shown = console.export_text()
    quiet, _, reclaim = shown.partition("Meanwhile AWS reclaims")
    # The consolidation chapter: two state changes handled, no Slack message, a line in the day's digest.
    assert quiet.count("→ 0 Slack message(s)") == 2 and re.search(r"Karpenter replaced \d+ nodes? on", quiet)
    assert reclaim.count("Slack: spot interruption warning") >= 1 and reclaim.count("Slack: follow-up") == 1
    assert "Spot interruption warning ×1" in reclaim and "Instance terminated ×1" in reclaim
    follow_up = reclaim.split("Slack: follow-up")[1]
    assert "1 node hit" in follow_up and "already gone from Kubernetes" in follow_up
    assert "`openfaas-fn/sleep`: 1 there when first hit" in follow_up or "`openfaas-fn/sleep`:" in reclaim
