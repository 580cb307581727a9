import json
import os

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app import naming
from sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(functions=8, nodes=4) as running:
        yield running


def test_app_identity_reads_through_the_real_client_and_is_refused_a_delete(sb):
    core = k8s.CoreV1Api(sb.app_kube_client())
    names = {node.metadata.name for node in core.list_node().items}
    assert names == set(sb.cluster.nodes)
    victim = sorted(names)[0]
    with pytest.raises(ApiException) as refused:
        core.delete_node(victim)
    assert refused.value.status == 403
    assert sb.kube.store.get("v1", "Node", None, victim) is not None
    assert sb.kube.requests[-1].user == "costguard"


def test_as_lambda_runs_the_app_as_that_lambdas_own_role_and_group_and_then_restores(sb):
    with sb.activate() as environment:
        with sb.as_lambda("budget"):
            assert os.environ["AWS_ACCESS_KEY_ID"] == "costguard-budget"
            k8s.CoreV1Api(sb.app_kube_client()).list_node()
            assert sb.kube.requests[-1].user == "costguard:budget"
            with pytest.raises(ApiException) as refused:  # the budget lists pods per function namespace only
                k8s.CoreV1Api(sb.app_kube_client()).list_pod_for_all_namespaces()
            assert refused.value.status == 403
        assert os.environ["AWS_ACCESS_KEY_ID"] == environment["AWS_ACCESS_KEY_ID"] == "costguard-app"
        k8s.CoreV1Api(sb.app_kube_client()).list_node()
        assert sb.kube.requests[-1].user == "costguard"


def test_admin_identity_may_do_anything(sb):
    apps = k8s.AppsV1Api(sb.admin_kube_client())
    apps.patch_namespaced_deployment_scale("figlet", "openfaas-fn", {"spec": {"replicas": 2}})
    assert sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "figlet")["spec"]["replicas"] == 2


def test_admission_policies_are_installed_and_hold_the_app_to_replicas_and_limits(sb):
    """policies/kubernetes-admission.yaml, installed by default: the app's identity cannot change a function's image
    or a NodePool's requirements (403, kube-apiserver's wording), a person can, and the app's own writes pass."""
    apps, admin_apps = k8s.AppsV1Api(sb.app_kube_client()), k8s.AppsV1Api(sb.admin_kube_client())
    name = sorted(sb.cluster.functions)[0]
    stored = sb.kube.store.get("apps/v1", "Deployment", "openfaas-fn", name)
    container = stored["spec"]["template"]["spec"]["containers"][0]["name"]
    image = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": "evil/miner:1"}]}}}}
    with pytest.raises(ApiException) as refused:
        apps.patch_namespaced_deployment(name, "openfaas-fn", image)
    assert refused.value.status == 403
    assert (f'deployments.apps "{name}" is forbidden: ValidatingAdmissionPolicy \'costguard-function-deployments\' '
            "with binding 'costguard-function-deployments' denied request: costguard may change only spec.replicas "
            "of a function Deployment") == json.loads(refused.value.body)["message"]
    replicas = stored["spec"]["replicas"]
    apps.patch_namespaced_deployment(name, "openfaas-fn", {
        "metadata": {"annotations": {"costguard.openfaas.com/original-replicas": str(replicas)}},
        "spec": {"replicas": replicas}})
    assert admin_apps.patch_namespaced_deployment(name, "openfaas-fn", image).spec.template.spec.containers[0].image \
        == "evil/miner:1"
    pools = k8s.CustomObjectsApi(sb.app_kube_client())
    pool = sb.kube.store.get("karpenter.sh/v1", "NodePool", None, "default")
    requirements = pool["spec"]["template"]["spec"]["requirements"][:-1]
    with pytest.raises(ApiException) as refused:
        pools.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                          {"spec": {"template": {"spec": {"requirements": requirements}}}})
    assert refused.value.status == 403 and "costguard may change only spec.limits and spec.replicas" in \
        refused.value.body
    pools.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default",
                                      {"spec": {"limits": pool["spec"]["limits"]}})


def test_seeded_custom_objects_are_served_and_the_app_sees_only_what_it_needs(sb):
    app = k8s.CustomObjectsApi(sb.app_kube_client())
    pools = app.list_cluster_custom_object("karpenter.sh", "v1", "nodepools")["items"]
    assert sorted(pool["metadata"]["name"] for pool in pools) == ["default", "spot"]
    admin = k8s.CustomObjectsApi(sb.admin_kube_client())
    functions = admin.list_namespaced_custom_object("openfaas.com", "v1", "openfaas-fn", "functions")["items"]
    assert sorted(f["metadata"]["name"] for f in functions) == sorted(sb.cluster.functions)
    with pytest.raises(ApiException) as refused:  # costguard reads Deployments, not OpenFaaS Function objects
        app.list_namespaced_custom_object("openfaas.com", "v1", "openfaas-fn", "functions")
    assert refused.value.status == 403


def test_every_node_has_its_instance_in_moto(sb):
    ec2 = sb.aws.client("ec2")
    reservations = ec2.describe_instances(InstanceIds=sb.cluster.instance_ids)["Reservations"]
    instances = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
    for name, machine in sb.cluster.nodes.items():
        tags = {t["Key"]: t["Value"] for t in instances[machine.instance_id]["Tags"]}
        assert tags["Name"] == name == instances[machine.instance_id]["PrivateDnsName"]
        assert tags["eks:eks-cluster-name"] == "openfaas"
    for claim, node in sb.cluster.nodeclaims.items():
        tags = {t["Key"]: t["Value"] for t in instances[sb.cluster.nodes[node].instance_id]["Tags"]}
        assert tags["karpenter.sh/nodeclaim"] == claim and tags["karpenter.sh/nodepool"] == claim.rsplit("-", 1)[0]


def test_stage_table_and_webhook_parameter_exist(sb):
    dynamodb = sb.aws.client("dynamodb")
    table = dynamodb.describe_table(TableName=naming.table("sandbox"))["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=naming.table("sandbox"))["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"
    parameter = sb.aws.client("ssm").get_parameter(Name=naming.slack_webhook_parameter("sandbox"),
                                                   WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString" and parameter["Value"] == sb.webhook_url


def test_activate_runs_the_apps_own_path_and_restores_the_environment(sb, monkeypatch):
    from chalice_app.config import settings
    from chalice_app.kube.client import api_client
    from chalice_app.slack.message import SlackMessage
    from chalice_app.slack.notifier import notifier_from_settings

    monkeypatch.setenv("COSTGUARD_SLACK_BOT_TOKEN_PARAMETER", "/developer/own/token")
    before = dict(os.environ)
    with sb.activate(COSTGUARD_DRY_RUN="true") as environment:
        assert environment["AWS_ACCESS_KEY_ID"] == "costguard-app"
        assert "AWS_SESSION_TOKEN" not in os.environ
        assert "COSTGUARD_SLACK_BOT_TOKEN_PARAMETER" not in os.environ
        current = settings()
        assert current.kube_endpoint is None and current.dry_run and current.cluster_name == "openfaas"
        # eks:DescribeCluster -> endpoint + CA, TLS verified, make_token + RBAC: the path the Lambda takes
        nodes = k8s.CoreV1Api(api_client(current)).list_node().items
        assert len(nodes) == len(sb.cluster.nodes)
        sb.slack.clear()
        notifier_from_settings(current).send(SlackMessage("hello from the sandbox"))
        assert [m.text for m in sb.slack.messages] == ["hello from the sandbox"]
    assert dict(os.environ) == before


def test_sandbox_clients_all_stay_on_loopback(sb):
    for service in ("sts", "sqs", "events", "ssm", "dynamodb", "ec2", "eks"):
        assert sb.session().client(service).meta.endpoint_url.startswith("http://127.0.0.1:")
    # provisioning asks STS for the account: moto answers, nothing leaves the machine
    assert sb.session().client("sts").get_caller_identity()["Account"] == "123456789012"
