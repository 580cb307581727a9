"""The sandbox as an operator's shell sees it: `costguard sandbox up` and `costguard sandbox exec -- COMMAND…`.

`OperatorSandbox` starts a `Sandbox`, bootstraps its stage with `costguard bootstrap`'s own code, writes the
kubeconfig `costguard kubeconfig` renders (HTTPS endpoint and CA from eks:DescribeCluster, `aws eks get-token`),
and describes the environment a shell needs: the moto endpoint and the sandbox admin's keys (the operator), the
stage's settings and KUBECONFIG. Everything lives in a temporary directory removed on stop.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import yaml

from chalice_app import naming
from chalice_app.config import load_settings
from chalice_app.kube.kubeconfig import stage_kubeconfig
from chalice_app.provisioning import ProvisionReport, ensure_stage
from chalice_app.cli.bootstrap import read_budget_file
from sandbox.demo_budget import seed_prices
from sandbox import CLUSTER_NAME, Sandbox
from sandbox.aws import ADMIN_ACCESS_KEY

# What would make a command in the sandbox's shell sign as someone else or read another stage's settings.
_CLEARED_PREFIXES = ("COSTGUARD_", "AWS_")
_CLEARED = ("KUBECONFIG",)
_UNSET_IN_SHELL = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "COSTGUARD_KUBE_ENDPOINT",
                   "COSTGUARD_KUBE_CA_DATA")


class OperatorSandbox:
    def __init__(self, functions: int = 20, nodes: int = 6, prices: bool = True):
        """`prices=False` skips caching EC2 prices (about 1,400 instance types read from moto): only
        `costguard budget` needs them."""
        self.sandbox = Sandbox(functions=functions, nodes=nodes)
        self.prices = prices
        self.report: ProvisionReport | None = None
        self.kubeconfig_path: Path | None = None
        self._directory: tempfile.TemporaryDirectory | None = None
        self._stack = contextlib.ExitStack()

    def start(self) -> "OperatorSandbox":
        with contextlib.ExitStack() as stack:
            sb = stack.enter_context(self.sandbox)
            self._directory = tempfile.TemporaryDirectory(prefix="costguard-sandbox-")
            stack.callback(self._directory.cleanup)
            admin = sb.session(ADMIN_ACCESS_KEY)
            self.report = ensure_stage(admin, sb.stage, cluster_name=CLUSTER_NAME, slack_webhook_url=sb.webhook_url,
                                       budget_template=read_budget_file(None))
            # moto has no Pricing API: prices go where a real run caches them (valid for the cache's 12 hours).
            if self.prices:
                seed_prices(sb, datetime.now(timezone.utc))
            self.kubeconfig_path = Path(self._directory.name) / "kubeconfig"
            config = stage_kubeconfig(load_settings(self.settings_environment()), admin)
            self.kubeconfig_path.write_text(yaml.safe_dump(config, sort_keys=False))
            self.kubeconfig_path.chmod(0o600)
            self._stack = stack.pop_all()
        return self

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> "OperatorSandbox":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def settings_environment(self) -> dict[str, str]:
        """The stage's settings as the Lambda gets them, plus the budget document bootstrap made."""
        sb = self.sandbox
        environment = sb.app_environment()
        environment["COSTGUARD_BUDGET_PARAMETER"] = naming.budget_parameter(sb.stage)
        return {key: value for key, value in environment.items() if key.startswith("COSTGUARD_")}

    def environment(self) -> dict[str, str]:
        """What `sandbox up` prints as `export` lines and `sandbox exec` runs its command with."""
        return {**self.sandbox.aws.environment(ADMIN_ACCESS_KEY), **self.settings_environment(),
                "KUBECONFIG": str(self.kubeconfig_path)}

    def shell_environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) without AWS/costguard/kube settings, plus the sandbox's."""
        source = dict(os.environ if base is None else base)
        kept = {key: value for key, value in source.items()
                if not key.startswith(_CLEARED_PREFIXES) and key not in _CLEARED}
        # `costguard` in the command is this installation's, even from a shell without the venv activated.
        kept["PATH"] = os.pathsep.join(filter(None, (str(Path(sys.executable).parent), kept.get("PATH"))))
        return {**kept, **self.environment()}

    def export_lines(self) -> list[str]:
        """Shell lines: forget what would sign as someone else or point elsewhere, then the sandbox's variables."""
        return [f"unset {' '.join(_UNSET_IN_SHELL)}",
                *(f"export {key}={shlex.quote(value)}" for key, value in sorted(self.environment().items()))]

