"""The savings ledger reads the function Deployments off the reconcile's own list (issue 9: one list page per 500
per run), brought up to date with the run's applied patches: what it sees equals a fresh list after the run."""
from dataclasses import replace

from chalice_app.config import settings
from chalice_app.kube.client import api_client
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.handler import run
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
from chalice_app.savings.service import ClusterView, ListedFunctions, read_cluster
from sandbox.kubeapi.faults import Fault
from sandbox.objects import FUNCTION_NAMESPACE
from tests.offhours import test_offhours_sandbox
from tests.offhours.test_offhours_sandbox import ENV, EVENING, MORNING

sb = test_offhours_sandbox.sb  # the same sandbox fixture (12 functions)


def comparable(view: ClusterView):
    """The view without resourceVersions (a patch moves them; the ledger does not read them), in a fixed order."""
    return (sorted(view.functions, key=lambda f: (f.namespace, f.name)),
            sorted((replace(f, resource_version="") for f in view.slim), key=lambda f: f.key),
            view.namespaces)


def test_the_view_after_a_run_is_what_a_fresh_list_shows(sb):
    running = sorted(d["metadata"]["name"] for d in sb.kube.store.list("apps/v1", "Deployment", FUNCTION_NAMESPACE)
                     if d["spec"].get("replicas"))
    with sb.activate(**ENV):
        api, namespaces = api_client(settings()), [FUNCTION_NAMESPACE]
        for now, failing in ((EVENING, running[0]), (MORNING, running[1])):  # one patch fails each run
            sb.kube.faults.inject(Fault(status=500, retry_after=0, times=50, method="PATCH",
                                        path_contains=f"/{failing}"))
            listed = ListedFunctions()
            reconciler = Reconciler(OffhoursCluster(api, on_listed=listed), OffhoursConfig.from_settings(settings()))
            report = reconciler.run(now)
            sb.kube.faults.clear()
            assert report.outcomes and any(o.error for o in report.outcomes) and any(o.applied for o in report.outcomes)
            assert comparable(listed.view_after(api, namespaces, report)) == comparable(read_cluster(api, namespaces))


def test_a_run_with_the_ledger_lists_the_function_deployments_once(sb):
    with sb.activate(**ENV):
        sb.kube.reset_requests()
        summary = run(settings(), EVENING, OffhoursPorts.from_settings(settings()))
        requests = list(sb.kube.requests)
    assert summary["scaled_down"] > 0
    collection = f"/namespaces/{FUNCTION_NAMESPACE}/deployments"
    assert sum(1 for r in requests if r.method == "GET" and r.path.endswith(collection)) == 1  # 12 functions
