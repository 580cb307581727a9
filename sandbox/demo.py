"""`make demo`: the whole costguard story on the loopback sandbox, in under a minute.

The guide's cluster → load scales `sleep` onto a new spot node → a spot warning reaches Slack → the budget passes
80 % and limits drop → 19:05 functions and NodePool headroom go to zero → the morning restores everything.
"""
from __future__ import annotations

import os
import time

# The handlers' JSON logs and EMF metrics are for CloudWatch; the demo shows tables and Slack messages instead.
# Set POWERTOOLS_LOG_LEVEL=INFO to see them. Done before anything imports the handlers' Logger.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from chalice_app.cli.operations import status as status_command
from sandbox import Sandbox

OUTPUT_DIR = Path("demo-output")


def show_cluster(sb: Sandbox, console: Console) -> None:
    store = sb.kube.store
    pools = Table(title="NodePools (karpenter.sh/v1)")
    for column in ("name", "capacity type", "taints", "limits"):
        pools.add_column(column)
    for pool in store.list("karpenter.sh/v1", "NodePool"):
        template = pool["spec"]["template"]["spec"]
        capacity = next((r["values"] for r in template.get("requirements", [])
                         if r["key"] == "karpenter.sh/capacity-type"), [])
        taints = ", ".join(f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in template.get("taints", []))
        pools.add_row(pool["metadata"]["name"], ",".join(capacity), taints, str(pool["spec"].get("limits", {})))
    console.print(pools)

    nodes = Table(title="Nodes")
    for column in ("node", "nodepool", "capacity", "instance type", "zone", "function pods"):
        nodes.add_column(column)
    pods_by_node: dict[str, list[str]] = {}
    for pod in store.list("v1", "Pod", "openfaas-fn"):
        pods_by_node.setdefault(pod["spec"].get("nodeName", ""), []).append(pod["metadata"]["labels"]["faas_function"])
    for node in store.list("v1", "Node"):
        labels = node["metadata"]["labels"]
        functions = sorted(pods_by_node.get(node["metadata"]["name"], []))
        shown = ", ".join(functions[:6]) + (f" +{len(functions) - 6}" if len(functions) > 6 else "")
        nodes.add_row(node["metadata"]["name"], labels.get("karpenter.sh/nodepool", "(node group)"),
                      labels.get("karpenter.sh/capacity-type", "on-demand"),
                      labels.get("node.kubernetes.io/instance-type", ""),
                      labels.get("topology.kubernetes.io/zone", ""), shown)
    console.print(nodes)


def main() -> None:
    console = Console(width=120)
    OUTPUT_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    # Imported here so a missing part fails the demo with its own name, after the sandbox explains itself.
    from sandbox import demo_budget, demo_interruptions, demo_offhours, demo_slack_actions

    with Sandbox(functions=20, nodes=6) as sb, sb.activate():
        console.print(Rule("1. The OpenFaaS EKS + Karpenter guide's cluster, on loopback"))
        console.print(f"AWS (moto server): {sb.aws.endpoint}   Kubernetes API: {sb.kube.url}   "
                      f"Slack receiver: {sb.slack.url}")
        show_cluster(sb, console)

        console.print(Rule("2. Load: `sleep` scales to 5 replicas; Karpenter adds a spot node"))
        sb.sim.scale_function("sleep", 5)
        sb.sim.settle()
        show_cluster(sb, console)

        console.print(Rule("3. AWS reclaims that spot node: interruption alert in Slack"))
        demo_interruptions.run(sb, console)

        # Budget before the evening: off-hours parks NodePool limits, and the budget leaves parked pools alone.
        console.print(Rule("4. The month's budget passes 80 %"))
        demo_budget.run(sb, console, OUTPUT_DIR)

        console.print(Rule("5. 19:05 Europe/London: off-hours"))
        demo_slack_actions.prepare(sb)  # prices for the savings ledger, cached where the budget caches them
        demo_offhours.evening(sb, console)

        console.print(Rule("5b. Slack: a signed click keeps `sleep` up until 22:00, through a redeploy; forged requests "
                           "change nothing"))
        demo_slack_actions.run(sb, console)

        console.print(Rule("6. Next morning: everything back as it was"))
        demo_offhours.morning(sb, console)
        demo_slack_actions.savings(sb, console)

        console.print(Rule("6b. Warm headroom: a morning burst lands on warm capacity; zero at night"))
        from sandbox import demo_headroom
        demo_headroom.run(sb, console)

        console.print(Rule("7. `costguard status`: what the operator sees"))
        status_command(stage=None)

    console.print(Rule(f"done in {time.monotonic() - started:.1f} s; outputs in {OUTPUT_DIR}/"))


if __name__ == "__main__":
    main()
