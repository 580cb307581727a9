"""Each Lambda function imports only the feature it runs (no timing here: benchmarks/bench_cold_start.py times it).

A fresh interpreter imports `app` and one handler module (what a Lambda container loads before the handler's first
run) and reports which costguard packages and which heavy libraries ended up in `sys.modules`.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""

# handler module -> (costguard packages it must not load, libraries it must not load at import time)
GRAPHS = {
    "chalice_app.interruptions.handler": (
        ("chalice_app.budget", "chalice_app.offhours", "chalice_app.savings", "chalice_app.slackapp"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.offhours.handler": (
        # the savings hook books every run with the budget's metering; the budget's price sources are not loaded
        ("chalice_app.interruptions", "chalice_app.budget.aws_prices", "chalice_app.budget.costexplorer",
         "chalice_app.budget.service", "chalice_app.budget.handler", "chalice_app.savings.service"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.budget.handler": (
        ("chalice_app.interruptions", "chalice_app.offhours", "chalice_app.savings", "chalice_app.slackapp"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.slackapp.route": (
        ("chalice_app.interruptions", "chalice_app.budget", "chalice_app.savings.service"),
        ("aws_xray_sdk", "holidays")),
}


def loaded_modules(*names: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *names], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout))


def under(modules: set[str], package: str) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(package + "."))


def test_app_alone_loads_no_feature():
    modules = loaded_modules("app")
    for package in ("chalice_app.interruptions", "chalice_app.offhours", "chalice_app.budget",
                    "chalice_app.savings", "chalice_app.slackapp", "chalice_app.slack", "aws_xray_sdk",
                    "slack_sdk"):
        assert not under(modules, package), package


@pytest.mark.parametrize("handler", sorted(GRAPHS))
def test_each_handler_graph_loads_only_its_feature(handler):
    packages, libraries = GRAPHS[handler]
    modules = loaded_modules("app", handler)
    assert handler in modules
    for package in packages + libraries:
        assert not under(modules, package), f"{handler} loads {under(modules, package)}"
