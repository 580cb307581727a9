"""Loopback-only sandbox: fake AWS (moto), fake Kubernetes API, Slack receiver, a seeded cluster and its controllers.

    with Sandbox(functions=20, nodes=6) as sb, sb.activate():
        ...                       # the app's code now talks to sb.kube, sb.aws and sb.slack as costguard-app
        sb.sim.scale_function("sleep", 5); sb.sim.settle()

Nothing listens beyond 127.0.0.1; every port is picked by the OS. One Sandbox per process at a time (moto keeps
its state process-wide).
"""
from __future__ import annotations

import contextlib
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import boto3
from aws_lambda_powertools.utilities import parameters

from chalice_app import aws_clients, naming
from chalice_app.config import settings
from chalice_app.kube import client as kube_client
from chalice_app.kube.auth import ClusterEndpoint, TokenCache, make_token
from sandbox.aws import (
    ADMIN_ACCESS_KEY,
    APP_ACCESS_KEY,
    REGION,
    FakeAws,
    create_eks_cluster,
    create_stage_table,
)
from sandbox import prometheus
from sandbox.cluster_sim import ClusterSim
from sandbox.kubeapi import FakeKubeApi
from sandbox.kubeapi.admission import load_policy_file
from sandbox.kubeapi.auth import default_access_entries, default_access_keys, lambda_access_key
from sandbox.openfaas import STANDARD, OpenFaaS
from sandbox.openfaas_chart import chart_objects
from sandbox.seed import DEFAULT_SEED, SeededCluster, build_objects, fake_machines, launch_machines, plan_cluster
from sandbox.service import Service
from sandbox.slack_receiver import SlackReceiver

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RBAC_FILE = PROJECT_ROOT / "policies" / "kubernetes-rbac.yaml"
ADMISSION_FILE = PROJECT_ROOT / "policies" / "kubernetes-admission.yaml"
SHARED_CRDS = PROJECT_ROOT.parent / "shared" / "crds"
CLUSTER_NAME = "openfaas"
STAGE = "sandbox"
WEBHOOK_NAME = "costguard-alerts"
# Variables that would make the app's AWS calls leave the sandbox or sign as someone else.
_AWS_VARIABLES_CLEARED = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN")


def crd_dir() -> Path | None:
    return SHARED_CRDS if SHARED_CRDS.is_dir() else None


def reset_app_caches() -> None:
    """Forget what the app cached per container: settings, Kubernetes clients, SSM parameter values, and boto3's
    default session (`boto3.client(...)` keeps the credentials it first found)."""
    boto3.DEFAULT_SESSION = None
    settings.cache_clear()
    kube_client.reset_cache()
    aws_clients.reset_cache()
    parameters.clear_caches()
    from chalice_app.savings import service as savings
    from chalice_app.slackapp import route as slack_actions

    savings.reset_caches()
    slack_actions.reset()


class Sandbox(Service):
    def __init__(self, functions: int = 20, nodes: int = 6, seed: int = DEFAULT_SEED, stage: str = STAGE,
                 now: datetime | None = None, ec2_instances: bool = True, edition: str = STANDARD,
                 maintain_minimum_replicas: bool = False, admission_policies: bool = True, kube_https: bool = True):
        """`ec2_instances=False` skips moto's instances (made-up ids instead): for bulk benchmarks of the
        Kubernetes side, where launching thousands of instances in moto would dominate (about 18 ms each).
        `edition` ("ce" or "standard") and `maintain_minimum_replicas` choose the OpenFaaS twin (sandbox/openfaas.py)
        and how the chart's gateway/autoscaler Deployments are rendered (sandbox/openfaas_chart.py);
        `maintain_minimum_replicas` is issue 9's option, which upstream OpenFaaS does not have (see openfaas.py).
        `admission_policies` installs policies/kubernetes-admission.yaml, which the API server then enforces.
        `kube_https=False` serves the Kubernetes API on plain HTTP (EKS never does): for benchmarks that separate
        the client's own CPU from TLS's."""
        self.functions, self.nodes, self.seed, self.stage, self.now = functions, nodes, seed, stage, now
        self.ec2_instances = ec2_instances
        self.admission_policies = admission_policies
        self.edition, self.maintain_minimum_replicas = edition, maintain_minimum_replicas
        self.aws = FakeAws(REGION)
        self.kube = FakeKubeApi(cluster_name=CLUSTER_NAME, region=REGION, rbac_file=RBAC_FILE, crd_dir=crd_dir(),
                                access_keys=default_access_keys(stage), access_entries=default_access_entries(stage),
                                https=kube_https)
        self.slack = SlackReceiver()
        self.cluster: SeededCluster | None = None
        self.sim: ClusterSim | None = None
        self.openfaas: OpenFaaS | None = None
        self.webhook_url = ""
        self._lambda: str | None = None  # the Lambda `as_lambda` runs the app as
        self._stack = contextlib.ExitStack()

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.aws)
            stack.enter_context(self.kube)
            stack.enter_context(self.slack)
            self._provision_aws()
            self._seed()
            self._stack = stack.pop_all()  # everything started: keep it running until stop()
        return self

    def stop(self) -> None:
        self._stack.close()


    @property
    def table_name(self) -> str:
        return naming.table(self.stage)

    @property
    def webhook_parameter(self) -> str:
        return naming.slack_webhook_parameter(self.stage)

    def _provision_aws(self) -> None:
        session = self.aws.session(ADMIN_ACCESS_KEY)
        create_stage_table(session.client("dynamodb"), self.table_name)
        create_eks_cluster(session.client("eks"), CLUSTER_NAME, self.kube.url, self.kube.ca_data)
        self.webhook_url = self.slack.webhook_url(WEBHOOK_NAME)
        session.client("ssm").put_parameter(Name=self.webhook_parameter, Value=self.webhook_url,
                                            Type="SecureString", Overwrite=True)

    def _seed(self) -> None:
        ec2 = self.aws.client("ec2", ADMIN_ACCESS_KEY) if self.ec2_instances else None
        plan = plan_cluster(self.functions, self.nodes, self.seed, self.now, CLUSTER_NAME)
        self.cluster = build_objects(plan, launch_machines(ec2, plan) if ec2 else fake_machines(plan))
        self.cluster.objects = chart_objects(self.cluster.objects, self.edition, self.maintain_minimum_replicas,
                                             plan.now - timedelta(days=30))
        self.kube.store.put_many(self.cluster.objects)
        if self.admission_policies:
            self.kube.store.put_many(load_policy_file(ADMISSION_FILE))
        events = self.aws.client("events", ADMIN_ACCESS_KEY) if self.ec2_instances else None
        self.openfaas = OpenFaaS(self.kube.store, self.edition, self.maintain_minimum_replicas)
        self.sim = ClusterSim(self.kube.store, ec2, CLUSTER_NAME, self.seed, events=events, openfaas=self.openfaas)
        # The chart's Prometheus (service prometheus:9090 in openfaas), reached through the API server's proxy.
        self.kube.register_service("openfaas", "prometheus", "9090",
                                   prometheus.http_api(self.openfaas.invocations, self.sim.now))

    # --- the app's view --------------------------------------------------------------------------------------
    def app_environment(self, **overrides: str) -> dict[str, str]:
        """The environment the app runs with against this sandbox (settings, AWS endpoint, app credentials); the
        cluster is found through eks:DescribeCluster (endpoint + CA), as in AWS."""
        environment = {
            **self.aws.environment(APP_ACCESS_KEY),
            "COSTGUARD_STAGE": self.stage,
            "COSTGUARD_CLUSTER_NAME": CLUSTER_NAME,
            "COSTGUARD_REGION": REGION,
            "COSTGUARD_TABLE_NAME": self.table_name,
            "COSTGUARD_SLACK_WEBHOOK_PARAMETER": self.webhook_parameter,
            "COSTGUARD_SLACK_API_BASE_URL": self.slack.api_base_url,  # used only when a bot token is configured
            "COSTGUARD_PARAMETER_CACHE_SECONDS": "300",
        }
        environment.update(overrides)
        return environment

    @contextlib.contextmanager
    def activate(self, **overrides: str) -> Iterator[dict[str, str]]:
        """Apply `app_environment()` to os.environ (restored afterwards) and reset the app's caches."""
        environment = self.app_environment(**overrides)
        # A developer's own COSTGUARD_* settings must not leak into the sandboxed app.
        cleared = [*_AWS_VARIABLES_CLEARED, *(key for key in os.environ if key.startswith("COSTGUARD_"))]
        saved = {key: os.environ.get(key) for key in (*environment, *cleared)}
        for key in cleared:
            os.environ.pop(key, None)
        os.environ.update(environment)
        reset_app_caches()
        try:
            yield environment
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            reset_app_caches()

    @contextlib.contextmanager
    def as_lambda(self, function: str) -> Iterator[None]:
        """Inside `activate()`: run the app as one Lambda (chalice_app.naming.LAMBDAS) — its role's credentials, so
        its own EKS access entry and Kubernetes group — with caches as fresh as its own container's."""
        saved = os.environ["AWS_ACCESS_KEY_ID"], self._lambda
        os.environ["AWS_ACCESS_KEY_ID"], self._lambda = lambda_access_key(function), function
        reset_app_caches()
        try:
            yield
        finally:
            os.environ["AWS_ACCESS_KEY_ID"], self._lambda = saved
            reset_app_caches()

    def _kube_client(self, access_key: str):
        session = self.aws.session(access_key)
        tokens = TokenCache(lambda: make_token(CLUSTER_NAME, session, REGION))
        return kube_client.build_api_client(ClusterEndpoint(self.kube.url, self.kube.ca_data), tokens)

    def app_kube_client(self):
        """A kubernetes ApiClient signed as the app (RBAC: policies/kubernetes-rbac.yaml): as the Lambda that
        `as_lambda` runs, else as the sandbox's all-groups principal."""
        return self._kube_client(lambda_access_key(self._lambda) if self._lambda else APP_ACCESS_KEY)

    def admin_kube_client(self):
        """A kubernetes ApiClient signed as the sandbox admin (system:masters)."""
        return self._kube_client(ADMIN_ACCESS_KEY)

    def session(self, access_key: str = ADMIN_ACCESS_KEY) -> boto3.session.Session:
        return self.aws.session(access_key)


__all__ = ["Sandbox", "CLUSTER_NAME", "STAGE", "reset_app_caches"]
