"""Cold import of each Lambda handler's module graph against the floor every handler pays: boto3 + kubernetes.client.

    .venv/bin/python benchmarks/bench_cold_start.py [--rounds 7]

Each measurement is a fresh interpreter (`python -c`) that times only its imports (CPU seconds, not the
interpreter's own start),
run round-robin (floor, interruptions, offhours, budget, Slack route, floor, ...) so that a busy machine slows all of
them alike; the median of the rounds is printed with its ratio to the floor's median. A handler's graph is what a
Lambda container loads before the handler runs: `app` (Chalice and the decorators) and the feature's handler module,
which app.py imports on the first call; "+ first event" adds what the usual first event imports later (FIRST_EVENT).
Prints figures; asserts nothing (tests/core/test_cold_start_imports.py pins
which packages each graph loads, without timing).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = ("boto3", "kubernetes.client")
# The graphs app.py's four functions load: `app` and the module each function imports on its first call.
GRAPHS = {
    "interruptions": ("app", "chalice_app.interruptions.handler"),
    "offhours": ("app", "chalice_app.offhours.handler"),
    "budget": ("app", "chalice_app.budget.handler"),
    "slack route": ("app", "chalice_app.slackapp.route"),
}
# What a graph's first event imports on top when it runs the usual path (a message sent, a run from the settings, a
# request verified): deferred from the import, so still part of a cold start's first invocation. Printed apart so
# the import figures are not mistaken for the whole cold start.
FIRST_EVENT = {
    "interruptions": ("chalice_app.slack.notifier", "chalice_app.slack.webhook"),
    "offhours": ("chalice_app.savings.hook", "chalice_app.savings.service", "chalice_app.slack.webhook"),
    "budget": ("chalice_app.slack.webhook",),
    "slack route": ("slack_sdk.signature",),
}
# CPU seconds of the probe (time.process_time): on a machine shared with other jobs the wall clock mostly measures
# the others; an import is CPU-bound once the files are in the page cache (the first, uncounted run puts them there).
PROBE = ("import importlib, sys, time\n"
         "start = time.process_time()\n"
         "for name in sys.argv[1:]:\n"
         "    importlib.import_module(name)\n"
         "print(time.process_time() - start)\n")


def import_seconds(modules: tuple[str, ...], bytecode: str, write: bool = False) -> float:
    # Every probe reads compiled bytecode from one cache (`bytecode`, filled by the uncounted warm-up): the floor's
    # packages come with .pyc from pip, while the project's own modules have none in the tree, so without a shared
    # cache the handlers' figures would include compiling costguard's sources and the floor's would not.
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR", "PYTHONPYCACHEPREFIX": bytecode}
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    targets = {"boto3 + kubernetes.client (floor)": FLOOR, **GRAPHS,
               **{f"{name} + first event": GRAPHS[name] + extra for name, extra in FIRST_EVENT.items()}}
    bytecode = tempfile.mkdtemp(prefix="costguard-pycache-")
    for modules in targets.values():  # warm the file cache and compile every graph once; not counted
        import_seconds(modules, bytecode, write=True)
    seconds: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(options.rounds):
        for name, modules in targets.items():
            seconds[name].append(import_seconds(modules, bytecode))
    shutil.rmtree(bytecode, ignore_errors=True)
    floor = statistics.median(seconds["boto3 + kubernetes.client (floor)"])
    print(f"cold import (CPU s), median of {options.rounds} fresh interpreters each, round-robin ({os.cpu_count()} cores)")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"  {name:<36} {median:6.3f} s  x{median / floor:4.2f} of the floor"
              f"  (min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
