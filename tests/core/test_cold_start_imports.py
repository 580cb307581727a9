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
        # the cordon/drain adapter loads when a pool's action runs, the SQS retry helpers when a message fails, the
        # notifier (SSM, the thread store) when a message is sent
        ("chalice_app.budget", "chalice_app.offhours", "chalice_app.savings", "chalice_app.slackapp",
         "chalice_app.interruptions.kube_actions", "chalice_app.interruptions.sqs_batch", "chalice_app.slack.notifier"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.offhours.handler": (
        # the savings hook (and the budget's metering it books with) loads after the plan, on a run from settings
        ("chalice_app.interruptions", "chalice_app.budget", "chalice_app.savings", "chalice_app.slackapp"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.budget.handler": (
        ("chalice_app.interruptions", "chalice_app.offhours", "chalice_app.savings", "chalice_app.slackapp"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a message is built or sent
    "chalice_app.digests.handler": (
        ("chalice_app.budget", "chalice_app.offhours", "chalice_app.savings", "chalice_app.slackapp",
         "chalice_app.interruptions.handler", "chalice_app.interruptions.batch"),
        ("aws_xray_sdk", "holidays")),
    "chalice_app.slackapp.route": (
        ("chalice_app.interruptions", "chalice_app.budget", "chalice_app.savings.service", "chalice_app.slack.retry"),
        ("aws_xray_sdk", "holidays", "slack_sdk")),  # slack_sdk loads when a request is verified or answered
}


def loaded_modules(*names: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *names], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout))


def under(modules: set[str], package: str) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(package + "."))


# Every graph reads its settings (chalice_app/config.py) with plain pydantic: pydantic-settings' sources loaded
# asyncio, argparse and python-dotenv, which no handler uses.
SETTINGS_LIBRARIES = ("pydantic_settings", "dotenv", "asyncio", "argparse")


def test_app_alone_loads_no_feature():
    modules = loaded_modules("app")
    for package in ("chalice_app.interruptions", "chalice_app.offhours", "chalice_app.budget", "chalice_app.digests",
                    "chalice_app.savings", "chalice_app.slackapp", "chalice_app.slack", "aws_xray_sdk",
                    "slack_sdk"):
        assert not under(modules, package), package


@pytest.mark.parametrize("handler", sorted(GRAPHS))
def test_each_handler_graph_loads_only_its_feature(handler):
    packages, libraries = GRAPHS[handler]
    modules = loaded_modules("app", handler)
    assert handler in modules
    for package in packages + libraries + SETTINGS_LIBRARIES:
        assert not under(modules, package), f"{handler} loads {under(modules, package)}"
