"""How long the sandbox takes to build, start and seed, and the simulator to settle, at a few sizes.

    .venv/bin/python benchmarks/bench_sandbox.py            # small and medium with moto instances, bulk without
    .venv/bin/python benchmarks/bench_sandbox.py --bulk-ec2 # bulk with 5,000 moto instances too (~1.5 min)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import Sandbox  # noqa: E402
from sandbox.seed import build_objects, fake_machines, plan_cluster  # noqa: E402


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(functions: int, nodes: int, ec2_instances: bool) -> str:
    plan = plan_cluster(functions, nodes)
    build, cluster = timed(lambda: build_objects(plan, fake_machines(plan)))
    sandbox = Sandbox(functions=functions, nodes=nodes, ec2_instances=ec2_instances)
    startup, _ = timed(sandbox.start)
    try:
        sandbox.sim.scale_function("sleep", 5)
        settle, _ = timed(sandbox.sim.settle)
    finally:
        stop, _ = timed(sandbox.stop)
    return (f"{functions:>9} {nodes:>6} {str(ec2_instances):>5} {len(cluster.objects):>8} {build:>8.2f} "
            f"{startup:>13.2f} {settle:>9.2f} {stop:>7.2f}")


def main(argv: list[str]) -> None:
    sizes = [(20, 6, True), (20, 6, True), (1000, 500, True), (10000, 5000, "--bulk-ec2" in argv)]
    print("first row includes one-time imports of moto's services")
    print(f"{'functions':>9} {'nodes':>6} {'ec2':>5} {'objects':>8} {'build s':>8} {'sandbox up s':>13} "
          f"{'settle s':>9} {'stop s':>7}")
    for functions, nodes, ec2_instances in sizes:
        print(measure(functions, nodes, ec2_instances), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
