"""policies/kubernetes-rbac.yaml: namespaced grants are Roles, one Role per configured function namespace for each
Lambda that works there (off-hours, the budget, the Slack route), each bound to that Lambda's own group only."""
import json

import yaml

from chalice_app import naming
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


# function-namespace Role → the one group bound to it
FUNCTION_NAMESPACE_ROLES = {"costguard-functions": "costguard:offhours", "costguard-budget": "costguard:budget",
                            "costguard-slack": "costguard:slack"}


def test_the_cluster_role_grants_nothing_namespaced():
    for cluster_role in (doc for doc in DOCUMENTS if doc["kind"] == "ClusterRole"):
        resources = {resource for rule in cluster_role["rules"] for resource in rule["resources"]}
        # pods and pods/eviction stay cluster-wide on purpose: a drain moves every namespace's pods off the node
        assert resources & NAMESPACED_RESOURCES == set()
        assert "namespaces" not in resources


def test_a_function_role_may_only_touch_its_own_namespace_object():
    roles = [doc for doc in DOCUMENTS if doc["kind"] == "Role" and doc["metadata"]["name"] in FUNCTION_NAMESPACE_ROLES]
    assert {role["metadata"]["name"] for role in roles} == set(FUNCTION_NAMESPACE_ROLES)
    for role in roles:
        for rule in (rule for rule in role["rules"] if rule["resources"] == ["namespaces"]):
            assert rule["resourceNames"] == [role["metadata"]["namespace"]]


def test_every_lambda_group_has_its_function_namespace_roles_in_every_configured_namespace():
    for name, group in FUNCTION_NAMESPACE_ROLES.items():
        roles = {doc["metadata"]["namespace"] for doc in DOCUMENTS
                 if doc["kind"] == "Role" and doc["metadata"]["name"] == name}
        bound = {doc["metadata"]["namespace"] for doc in DOCUMENTS if doc["kind"] == "RoleBinding"
                 and doc["roleRef"]["name"] == name and doc["subjects"] == [
                     {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}
        assert roles == bound == configured_function_namespaces(), name


def test_every_binding_names_one_lambda_group_and_each_cluster_role_is_its_groups_own():
    groups = {naming.kubernetes_group(function) for function in naming.LAMBDAS}
    for binding in (doc for doc in DOCUMENTS if doc["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        assert [subject["name"] for subject in binding["subjects"]] in ([group] for group in groups), binding
        if binding["kind"] == "ClusterRoleBinding":  # costguard:<feature> bound to group costguard:<feature>
            assert binding["roleRef"]["name"] == binding["subjects"][0]["name"] == binding["metadata"]["name"]


def test_the_deploy_guide_gives_each_lambda_with_cluster_grants_its_own_access_entry_and_group():
    readme = (PROJECT_DIR / "README.md").read_text()
    loop = next(line for line in readme.splitlines() if line.startswith("for fn in ") and ":" in line)
    pairs = dict(pair.split(":") for pair in loop.removeprefix("for fn in ").removesuffix("; do").split())
    assert {function: f"costguard:{suffix}" for function, suffix in pairs.items()} == {
        function: naming.kubernetes_group(function) for function in naming.LAMBDAS
        if naming.kubernetes_group(function) in bound_groups()}
    entry = "role/costguard-prod-${fn%%:*} --username costguard:${fn#*:} --kubernetes-groups costguard:${fn#*:}"
    assert entry in readme


def bound_groups() -> set[str]:
    return {subject["name"] for doc in DOCUMENTS if doc["kind"] in ("RoleBinding", "ClusterRoleBinding")
            for subject in doc["subjects"]}
