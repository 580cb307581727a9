from kubernetes import client as k8s

from tests.kubeapi.conftest import deployment, namespace, node


def test_app_reads_and_patches_through_the_real_client(api, app_client):
    api.store.put_many([namespace("openfaas-fn"), node("node-a"), deployment("sleep", replicas=2)])
    core, apps = k8s.CoreV1Api(app_client), k8s.AppsV1Api(app_client)
    assert [n.metadata.name for n in core.list_node().items] == ["node-a"]
    patched = core.patch_node("node-a", {"spec": {"unschedulable": True}})
    assert patched.spec.unschedulable is True
    scaled = apps.patch_namespaced_deployment("sleep", "openfaas-fn", {"spec": {"replicas": 0}})
    assert scaled.spec.replicas == 0
    assert api.store.get("apps/v1", "Deployment", "openfaas-fn", "sleep")["spec"]["replicas"] == 0
