"""The reconcile shell on an in-memory cluster: conflicts re-decided, failures isolated, cap alert, Slack summary."""
from datetime import datetime, timedelta, timezone

from kubernetes.client.exceptions import ApiException

from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.offhours.planner import Kind
from chalice_app.offhours.policy import Defaults
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
from chalice_app.offhours.report import cap_alert, summary_message
from tests.offhours.factories import deployment
from tests.memory_cluster import MemoryCluster

NIGHT = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
CONFIG = OffhoursConfig(("openfaas-fn",), Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London"),
                        grace=timedelta(minutes=15), max_changes=500)


class RacingCluster(MemoryCluster):
    """A person scales `racer` between our list and our patch, once."""

    def __init__(self, *args, racer: str, replicas: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.racer, self.racer_replicas = racer, replicas

    def patch_function(self, namespace, name, patch):
        if name == self.racer:
            self.racer = None
            self.human_scale(namespace, name, self.racer_replicas)
        super().patch_function(namespace, name, patch)


def test_a_conflict_is_re_decided_from_a_fresh_read():
    # Scaled to 0 by a person meanwhile: nothing left to do, and no annotation claims replicas to restore.
    cluster = RacingCluster([deployment("a", 3), deployment("b", 2)], racer="a", replicas=0)
    report = Reconciler(cluster, CONFIG, sleep=lambda _: None).run(NIGHT)
    assert cluster.deployments[("openfaas-fn", "a")]["spec"]["replicas"] == 0
    assert ORIGINAL_REPLICAS not in cluster.deployments[("openfaas-fn", "a")]["metadata"]["annotations"]
    assert [(o.action.name, o.action.kind, o.applied, o.error) for o in report.outcomes] == [
        ("a", Kind.KEEP, False, None), ("b", Kind.SCALE_DOWN, True, None)]
    # Scaled to 5 meanwhile: the retry scales the fresh count down and stores 5, not the stale 3.
    cluster = RacingCluster([deployment("a", 3)], racer="a", replicas=5)
    Reconciler(cluster, CONFIG, sleep=lambda _: None).run(NIGHT)
    assert cluster.deployments[("openfaas-fn", "a")]["metadata"]["annotations"][ORIGINAL_REPLICAS] == "5"


def test_one_failure_does_not_stop_the_others_and_is_reported():
    excluded = deployment("x", 1, annotations={"costguard.openfaas.com/exclude": "true"})
    cluster = MemoryCluster([deployment(name, 1) for name in ("a", "b", "c")] + [excluded])
    cluster.fail = {"b"}
    report = Reconciler(cluster, CONFIG, sleep=lambda _: None).run(NIGHT)
    assert {key[1]: d["spec"]["replicas"] for key, d in cluster.deployments.items()} == {"a": 0, "b": 1, "c": 0,
                                                                                          "x": 1}
    assert report.errors == [("openfaas-fn/b", "Kubernetes API 500 Internal Server Error")]
    message = summary_message(report)
    assert message.text == "costguard off-hours: 2 scaled down, 0 restored, 1 errors"
    sections = [block["text"]["text"] for block in message.blocks if block["type"] == "section"]
    assert sections[0] == "*Scaled down* (2)\n• `openfaas-fn/a` 1 → 0\n• `openfaas-fn/c` 1 → 0"
    assert sections[1] == ("*Skipped* (1)\n• `openfaas-fn/x`: excluded by function annotation "
                           "costguard.openfaas.com/exclude")
    assert "`openfaas-fn/b`: Kubernetes API 500" in sections[2]


def test_the_cap_defers_and_alerts_and_nothing_changes_means_no_message():
    cluster = MemoryCluster([deployment(f"f{i}", 1) for i in range(5)])
    report = Reconciler(cluster, OffhoursConfig(CONFIG.namespaces, CONFIG.defaults, max_changes=2),
                        sleep=lambda _: None).run(NIGHT)
    assert sum(d["spec"]["replicas"] for d in cluster.deployments.values()) == 3
    assert "wanted 5 changes, more than the cap of 2; 3 held back" in cap_alert(report).text
    quiet = Reconciler(MemoryCluster([deployment("z", 0)]), CONFIG).run(NIGHT)
    assert summary_message(quiet) is None and cap_alert(quiet) is None


def test_dry_run_writes_nothing_but_reports_the_plan():
    cluster = MemoryCluster([deployment("a", 2)])
    report = Reconciler(cluster, OffhoursConfig(CONFIG.namespaces, CONFIG.defaults, dry_run=True)).run(NIGHT)
    assert cluster.patches == [] and [a.kind for a in report.plan.changes] == [Kind.SCALE_DOWN]
    assert report.outcomes == []
    assert summary_message(report).text == "[dry run] costguard off-hours: 1 scaled down, 0 restored, 0 errors"


class FlakyListCluster(MemoryCluster):
    """A cluster where some lists fail: one namespace's Deployments, or the NodePools."""

    def __init__(self, *args, broken_namespace=None, broken_nodepools=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.broken_namespace, self.broken_nodepools = broken_namespace, broken_nodepools

    def functions(self, namespace):
        if namespace == self.broken_namespace:
            raise ApiException(status=503, reason="Service Unavailable")
        return super().functions(namespace)

    def nodepools(self):
        if self.broken_nodepools:
            raise ApiException(status=500, reason="Internal Server Error")
        return super().nodepools()


def test_a_failing_namespace_or_nodepool_list_is_reported_and_the_rest_still_runs():
    config = OffhoursConfig(("team-a", "team-b"), CONFIG.defaults, grace=timedelta(minutes=15), max_changes=500)
    cluster = FlakyListCluster([deployment("a", 2, namespace="team-a"), deployment("b", 2, namespace="team-b")],
                               broken_namespace="team-a", broken_nodepools=True)
    report = Reconciler(cluster, config, sleep=lambda _: None).run(NIGHT)
    assert cluster.deployments[("team-b", "b")]["spec"]["replicas"] == 0  # applied before the NodePools list
    assert cluster.deployments[("team-a", "a")]["spec"]["replicas"] == 2
    assert report.errors == [("namespace team-a", "Kubernetes API 503 Service Unavailable"),
                             ("NodePools", "Kubernetes API 500 Internal Server Error")]
    errors = [block["text"]["text"] for block in summary_message(report).blocks if block["type"] == "section"][-1]
    assert "`namespace team-a`: Kubernetes API 503" in errors and "`NodePools`: Kubernetes API 500" in errors


def test_a_failing_list_alone_still_sends_a_summary():
    cluster = FlakyListCluster([deployment("a", 0)], broken_nodepools=True)
    report = Reconciler(cluster, CONFIG, sleep=lambda _: None).run(NIGHT)
    assert not report.changed and summary_message(report).text.endswith("1 errors")
