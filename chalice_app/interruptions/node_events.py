"""Each notice also recorded as a Kubernetes Event on its Node, so `kubectl describe node` shows it.

As aws-node-termination-handler does (aws/aws-node-termination-handler pkg/observability/k8s-events.go): core/v1
Events written to namespace `default` (a Node is cluster-scoped), involvedObject the Node, the reasons it uses for
the same notices (SpotInterruption, RebalanceRecommendation, ScheduledEvent), the instance's facts as annotations.
Only `create` on events is needed. A burst is bounded: at most MAX_EVENTS_PER_BATCH Events per batch (the rest
are counted in the batch summary), so a 15,000-node reclaim stays within the Kubernetes request budget.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Sequence

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from chalice_app.interruptions.correlation import NodeImpact
from chalice_app.interruptions.notice import NoticeKind
from chalice_app.kube.rest import FIELD_MANAGER, call, resource_path

EVENT_NAMESPACE = "default"
COMPONENT = "costguard"
MAX_EVENTS_PER_BATCH = 25
EVENT_WORKERS = 8
MAX_MESSAGE = 1024
REASONS = {
    NoticeKind.SPOT_INTERRUPTION: "SpotInterruption",
    NoticeKind.REBALANCE_RECOMMENDATION: "RebalanceRecommendation",
    NoticeKind.SCHEDULED_CHANGE: "ScheduledEvent",
    NoticeKind.CAPACITY_RESERVATION_INTERRUPTION: "CapacityReservationInterruption",
    NoticeKind.INSTANCE_TERMINATED: "InstanceTerminated",
    NoticeKind.INSTANCE_STOPPED: "InstanceStopped",
}
MESSAGES = {
    NoticeKind.SPOT_INTERRUPTION: "Spot interruption warning",
    NoticeKind.REBALANCE_RECOMMENDATION: "EC2 rebalance recommendation",
    NoticeKind.SCHEDULED_CHANGE: "AWS Health scheduled maintenance",
    NoticeKind.CAPACITY_RESERVATION_INTERRUPTION: "Capacity Reservation interruption warning",
    NoticeKind.INSTANCE_TERMINATED: "Instance terminated",
    NoticeKind.INSTANCE_STOPPED: "Instance stopped",
}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(impact: NodeImpact, now: datetime) -> dict:
    """The core/v1 Event for one impact; its name is stable per (node, notice), so a redelivery is a 409, not a copy."""
    node, notice = impact.node, impact.notice
    message = MESSAGES[notice.kind] + f" for {node.instance_id}"
    if notice.hibernates:
        message += ": hibernating now, no two-minute warning"
    elif notice.deadline:
        message += f", deadline {_stamp(notice.deadline)}"
    message += f" (EventBridge event {notice.event_id})"
    digest = hashlib.sha256(f"{node.name}/{notice.event_id}".encode()).hexdigest()[:16]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{node.name[:200]}.{digest}", "namespace": EVENT_NAMESPACE,
                     "annotations": {"instance-id": node.instance_id, "instance-type": node.instance_type[:63],
                                     "availability-zone": node.zone[:63], "region": notice.region[:63]}},
        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid or ""},
        "reason": REASONS[notice.kind], "message": message[:MAX_MESSAGE], "type": "Warning",
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT,
        "firstTimestamp": _stamp(notice.time), "lastTimestamp": _stamp(now), "count": 1,
    }


def plan_events(impacts: Sequence[NodeImpact], now: datetime,
                limit: int = MAX_EVENTS_PER_BATCH) -> tuple[list[dict], int]:
    """Events for live nodes, the batch's first `limit` of them; also how many were left out."""
    live = [impact for impact in impacts if not impact.node.remembered]
    return [event_body(impact, now) for impact in live[:limit]], max(0, len(live) - limit)


def record_events(api: k8s.ApiClient, bodies: Sequence[dict]) -> list[str]:
    """Create the Events; returns one line per failure. 409: already recorded (a redelivery), which is fine."""
    # A plain-dict POST (kube/rest.py): CoreV1Api's create_namespaced_event is typed for its CoreV1Event model.
    path = resource_path("events", namespace=EVENT_NAMESPACE)

    def create(body: dict) -> str | None:
        try:
            call(api, "POST", path, [("fieldManager", FIELD_MANAGER)], body, "application/json")
        except ApiException as error:
            if error.status != 409:
                return f"event on {body['involvedObject']['name']}: HTTP {error.status} {error.reason}"
        return None

    with ThreadPoolExecutor(EVENT_WORKERS) as pool:
        return [problem for problem in pool.map(create, bodies) if problem]
