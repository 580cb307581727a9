"""policies/kubernetes-rbac.yaml: namespaced grants are Roles, one off-hours Role per configured function namespace."""
import json

import yaml

from tests.deploy.scripts import PROJECT_DIR

DOCUMENTS = list(yaml.safe_load_all((PROJECT_DIR / "policies" / "kubernetes-rbac.yaml").read_text()))
NAMESPACED_RESOURCES = {"deployments", "events", "services/proxy"}


def configured_function_namespaces() -> set[str]:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return {namespace.strip() for stage in config["stages"].values()
            for namespace in stage["environment_variables"]["COSTGUARD_FUNCTION_NAMESPACES"].split(",")}


def test_every_configured_function_namespace_has_its_own_role_and_binding():
    roles = {doc["metadata"]["namespace"] for doc in DOCUMENTS
             if doc["kind"] == "Role" and doc["metadata"]["name"] == "costguard-functions"}
    bound = {doc["metadata"]["namespace"] for doc in DOCUMENTS
             if doc["kind"] == "RoleBinding" and doc["roleRef"]["name"] == "costguard-functions"}
    assert roles == bound == configured_function_namespaces()


def test_the_cluster_role_grants_nothing_namespaced():
    cluster_role = next(doc for doc in DOCUMENTS if doc["kind"] == "ClusterRole")
    resources = {resource for rule in cluster_role["rules"] for resource in rule["resources"]}
    # pods and pods/eviction stay cluster-wide on purpose: a drain moves every namespace's pods off the node
    assert resources & NAMESPACED_RESOURCES == set()
    assert "namespaces" not in resources


def test_a_function_role_may_only_touch_its_own_namespace_object():
    for role in (doc for doc in DOCUMENTS if doc["kind"] == "Role" and doc["metadata"]["name"] == "costguard-functions"):
        rule = next(rule for rule in role["rules"] if rule["resources"] == ["namespaces"])
        assert rule["resourceNames"] == [role["metadata"]["namespace"]]
