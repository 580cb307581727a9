"""policies/kubernetes-rbac.yaml is enough and no more, per Lambda: every feature and command runs on the sandbox
as ITS OWN identity (its role's EKS access entry → its own Kubernetes group; the API server enforces the roles),
nothing is refused, and every permission bound to a group is used by that group's Lambda. The same run records each
Lambda's AWS calls (moto enforces no IAM): each is granted to that Lambda's own role and found by the code scan."""
import os
from datetime import datetime, timezone
from pathlib import Path

import botocore.client
import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from rich.console import Console
from typer.testing import CliRunner

from chalice_app import naming
from chalice_app.cli import app as cli_app
from chalice_app.config import load_settings
from chalice_app.digests import handler as digests
from chalice_app.digests.ports import DigestPorts
from chalice_app.kube import client as kube_client
from sandbox import Sandbox, demo_budget, demo_headroom, demo_interruptions, demo_offhours, demo_slack_actions
from sandbox.kubeapi import Fault
from sandbox.kubeapi.auth import lambda_access_key
from sandbox.kubeapi.routing import request_attributes
from sandbox.slack_user import serve_slack_actions
from tests.deploy.lambda_calls import AUTHORISED_AS, lambdas_of_app, needed_actions
from tests.deploy.scripts import iam_template

RBAC = Path(__file__).resolve().parents[2] / "policies" / "kubernetes-rbac.yaml"
GROUPS = {naming.kubernetes_group(function): function for function in naming.LAMBDAS}
# Read-only commands, each run as the Lambda whose feature it shows (an operator's own identity needs at least
# as much): status and the off-hours, savings and headroom views read what off-hours reads.
COMMANDS = {"offhours": (["status"], ["explain", "function", "sleep"], ["offhours", "plan"],
                         ["savings", "--period", "week"], ["headroom", "plan"], ["headroom", "explain", "spot"],
                         ["headroom", "status"]),
            "budget": (["budget", "plan", "--from-ssm"],)}


def grants() -> dict[str, set[tuple[str, str, str, str]]]:
    """{group: {(verb, apiGroup, resource[/subresource], namespace — "" for cluster-wide)}} from the bindings."""
    documents = list(yaml.safe_load_all(RBAC.read_text()))
    roles = {(doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]): doc["rules"]
             for doc in documents if doc["kind"] in ("ClusterRole", "Role")}
    granted: dict[str, set] = {}
    for binding in (doc for doc in documents if doc["kind"] in ("ClusterRoleBinding", "RoleBinding")):
        namespace = binding["metadata"].get("namespace", "")
        ref = binding["roleRef"]
        rules = roles[(ref["kind"], namespace if ref["kind"] == "Role" else "", ref["name"])]
        for subject in binding["subjects"]:
            assert subject["kind"] == "Group", subject
            granted.setdefault(subject["name"], set()).update(
                (verb, group, resource, namespace) for rule in rules for verb in rule["verbs"]
                for group in rule["apiGroups"] for resource in rule["resources"])
    return granted


def used(requests) -> dict[str, set[tuple[str, str, str, str]]]:
    """{user: {(verb, apiGroup, resource[/subresource], namespace)}} of the requests the server answered."""
    seen: dict[str, set] = {}
    for request in requests:
        attributes = request_attributes(request.method, request.path, request.query)
        if request.user is None or attributes is None:
            continue
        resource = attributes.resource + (f"/{attributes.subresource}" if attributes.subresource else "")
        seen.setdefault(request.user, set()).add((attributes.verb, attributes.group, resource, attributes.namespace))
    return seen


def covers(grant: tuple, request: tuple) -> bool:
    return grant[:3] == request[:3] and grant[3] in ("", request[3])


def cross_feature_attempts(sb) -> dict[tuple[str, str], int]:
    """Each Lambda trying a write that belongs to another feature: the status the API server answers."""
    node = sb.kube.store.list("v1", "Node")[0]["metadata"]["name"]
    pool = sb.kube.store.list("karpenter.sh/v1", "NodePool")[0]["metadata"]["name"]
    tries = {
        (naming.API_HANDLER, "cordon a node"): lambda api: k8s.CoreV1Api(api).patch_node(
            node, {"spec": {"unschedulable": True}}),
        ("interruptions", "set a NodePool's limits"): lambda api: k8s.CustomObjectsApi(api).patch_cluster_custom_object(
            "karpenter.sh", "v1", "nodepools", pool, {"spec": {"limits": {"cpu": "1"}}}),
        ("budget", "scale a function"): lambda api: k8s.AppsV1Api(api).patch_namespaced_deployment(
            "sleep", "openfaas-fn", {"spec": {"replicas": 0}}),
        ("offhours", "evict a pod"): lambda api: k8s.CoreV1Api(api).create_namespaced_pod_eviction(
            "any", "openfaas-fn", {"metadata": {"name": "any", "namespace": "openfaas-fn"}}),
    }
    answers = {}
    for (function, what), attempt in tries.items():
        with sb.as_lambda(function):
            try:
                attempt(kube_client.api_client(load_settings()))
                answers[(function, what)] = 200
            except ApiException as error:
                answers[(function, what)] = error.status
    return answers


def recording_aws_calls(monkeypatch, calls: set[tuple[str, str]]) -> None:
    """Every boto3 call made in this process, as (access key, `service:Operation`)."""
    original = botocore.client.BaseClient._make_api_call

    def recorded(client, operation_name, api_params):
        credentials = client._request_signer._credentials  # the key the request is signed with
        if credentials is not None:
            calls.add((credentials.access_key, f"{client.meta.service_model.service_name}:{operation_name}"))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recorded)


@pytest.fixture(scope="module")
def aws_calls():
    calls: set[tuple[str, str]] = set()
    with pytest.MonkeyPatch.context() as monkeypatch:
        recording_aws_calls(monkeypatch, calls)
        yield calls


@pytest.fixture(scope="module")
def everything_as_each_lambda(tmp_path_factory, aws_calls):
    console = Console(file=open("/dev/null", "w"))
    output = tmp_path_factory.mktemp("demo-output")
    # cordon-and-drain on spot, so the interruption path exercises cordon and eviction too
    with Sandbox(functions=20, nodes=6) as sb, \
            sb.activate(COSTGUARD_INTERRUPTION_ACTIONS='{"spot": "cordon-and-drain"}') as environment:
        sb.sim.scale_function("sleep", 5)
        sb.sim.settle()
        # one conflict on a node write, so cordon's re-read (get nodes) runs as it would in a busy cluster
        sb.kube.faults.inject(Fault(status=409, times=1, method="PATCH", path_contains="/api/v1/nodes/"))
        with sb.as_lambda("interruptions"):
            demo_interruptions.run(sb, console)
        with sb.as_lambda("budget"):
            demo_budget.run(sb, console, output)
        with sb.as_lambda("offhours"):
            demo_slack_actions.prepare(sb)
            demo_offhours.evening(sb, console)
            story = demo_slack_actions.run(sb, console)  # the route runs as the API handler: read and annotate
            assert story["sleep_up_after_redeploy"] and story["sleep_parked_at_22_05"]  # the keep, from the table
            demo_offhours.morning(sb, console)
        with serve_slack_actions(sb) as slack:  # and annotate a namespace
            heads_up = next(m for m in reversed(sb.slack.messages) if "park at" in m.text)
            assert slack.click(heads_up, "Keep openfaas-fn up tonight")[0] == 200
        with sb.as_lambda("offhours"):
            demo_headroom.run(sb, console)  # placeholders made by the off-hours run, scaled to zero at night
        with sb.as_lambda("digests"):
            both = {"COSTGUARD_KARPENTER_DIGEST": "true", "COSTGUARD_SPOT_DIGEST": "true",
                    "COSTGUARD_DIGEST_TIMEZONE": "UTC"}
            # a Monday after the digest hour: the daily and the weekly digest are due (claimed, read, sent if any)
            monday_evening = datetime(2026, 12, 7, 18, 5, tzinfo=timezone.utc)
            settings = load_settings({**os.environ, **both})
            assert digests.run(settings, monday_evening, DigestPorts.from_settings(settings))["due"]
        lambdas_aws_calls = frozenset(aws_calls)  # the commands' AWS calls are the operator's (policies/README.md)
        runner = CliRunner()
        for function, commands in COMMANDS.items():
            for command in commands:
                with sb.as_lambda(function):
                    result = runner.invoke(cli_app, command,
                                           env={**environment, "AWS_ACCESS_KEY_ID": lambda_access_key(function)})
                assert result.exit_code == 0, (function, command, result.output)
        requests = list(sb.kube.requests)
        yield requests, cross_feature_attempts(sb), lambdas_aws_calls


def test_every_feature_ran_without_a_refusal(everything_as_each_lambda):
    requests, _, _ = everything_as_each_lambda
    refused = sorted({(r.user, r.method, r.path) for r in requests if r.user in GROUPS and r.status == 403})
    assert refused == []


def test_every_feature_ran_as_its_own_identity(everything_as_each_lambda):
    requests, _, _ = everything_as_each_lambda
    users = {r.user for r in requests}
    assert {"costguard:interruptions", "costguard:offhours", "costguard:budget", "costguard:slack"} <= users
    assert "costguard" not in users  # the sandbox's all-groups principal played no part
    assert "costguard:digests" not in users  # the digests read the table only


def test_every_granted_permission_is_used_by_its_own_group(everything_as_each_lambda):
    requests, _, _ = everything_as_each_lambda
    by_user = used(requests)
    unused = {group: sorted(grant for grant in granted if not any(covers(grant, r) for r in by_user.get(group, ())))
              for group, granted in grants().items()}
    assert {group: grants for group, grants in unused.items() if grants} == {}, \
        f"granted but never used by that group, remove from {RBAC.name}"


def test_only_the_lambdas_groups_are_bound(everything_as_each_lambda):
    assert set(grants()) <= set(GROUPS)
    assert "costguard:digests" not in grants()  # nothing in the cluster


def test_a_feature_using_another_features_grant_is_refused(everything_as_each_lambda):
    _, attempts, _ = everything_as_each_lambda
    assert attempts == {("api_handler", "cordon a node"): 403, ("interruptions", "set a NodePool's limits"): 403,
                        ("budget", "scale a function"): 403, ("offhours", "evict a pod"): 403}


@pytest.mark.parametrize("function", naming.LAMBDAS)
def test_every_aws_call_a_lambda_made_is_granted_to_its_own_role_and_seen_by_the_scan(everything_as_each_lambda,
                                                                                        function):
    _, _, aws_calls = everything_as_each_lambda
    made = {action for key, operation in aws_calls if key == lambda_access_key(function)
            for action in AUTHORISED_AS.get(operation, {operation})}
    assert made, f"{function} made no AWS call in the run"  # the run really exercised it
    document = iam_template().policy_document("sandbox", "openfaas", function)
    granted = {action for statement in document["Statement"] for action in statement["Action"]}
    assert made - granted == set(), f"{function} called what its role lacks"
    modules, fed = lambdas_of_app()[function]
    assert made - needed_actions(modules, fed) == set(), "the code scan (tests/deploy/lambda_calls.py) missed a call"
