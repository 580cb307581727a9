"""DELETE of an object with finalizers, as kube-apiserver does it: marked deleting, removed with its last finalizer."""
import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from tests.kubeapi.conftest import node


def test_delete_of_an_object_with_finalizers_marks_it_until_the_last_finalizer_goes(admin_client):
    core = k8s.CoreV1Api(admin_client)
    guarded = node("ip-10-0-0-2.ec2.internal")
    guarded["metadata"]["finalizers"] = ["karpenter.sh/termination"]
    core.create_node(guarded)
    core.delete_node("ip-10-0-0-2.ec2.internal")
    kept = core.read_node("ip-10-0-0-2.ec2.internal")
    assert kept.metadata.deletion_timestamp is not None and kept.metadata.finalizers == ["karpenter.sh/termination"]
    core.patch_node("ip-10-0-0-2.ec2.internal", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_node("ip-10-0-0-2.ec2.internal")
    assert gone.value.status == 404
