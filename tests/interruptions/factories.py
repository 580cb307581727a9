"""Events and Kubernetes objects shaped like the real ones, for the interruption tests."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

ACCOUNT = "123456789012"
REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:costguard-test-interruptions"
NOW = datetime(2026, 11, 24, 18, 0, 30, tzinfo=timezone.utc)
_ids = itertools.count(1)


def instance_id(number: int) -> str:
    return f"i-{number:017x}"


def event(detail_type: str, detail: dict, source: str = "aws.ec2", event_id: str | None = None,
          account: str = ACCOUNT, region: str = REGION, time: str = "2026-11-24T18:00:00Z",
          resources: list | None = None) -> dict:
    return {"version": "0", "id": event_id or f"evt-{next(_ids):06d}", "detail-type": detail_type, "source": source,
            "account": account, "time": time, "region": region, "resources": resources or [], "detail": detail}


def spot_warning(number: int, **kwargs) -> dict:
    return event("EC2 Spot Instance Interruption Warning",
                 {"instance-id": instance_id(number), "instance-action": "terminate"}, **kwargs)


def rebalance(number: int, **kwargs) -> dict:
    return event("EC2 Instance Rebalance Recommendation", {"instance-id": instance_id(number)}, **kwargs)


def state_change(number: int, state: str, **kwargs) -> dict:
    return event("EC2 Instance State-change Notification", {"instance-id": instance_id(number), "state": state},
                 **kwargs)


def health(numbers: list[int], service: str = "EC2", category: str = "scheduledChange",
           start: str = "Tue, 01 Dec 2026 10:00:00 GMT", **kwargs) -> dict:
    detail = {"eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/x",
              "service": service, "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
              "eventTypeCategory": category, "startTime": start,
              "affectedEntities": [{"entityValue": instance_id(n)} for n in numbers]}
    return event("AWS Health Event", detail, source="aws.health", **kwargs)


def capacity_reservation(number: int, termination: str | None = "2026-11-24T18:02:00Z", **kwargs) -> dict:
    detail = {"instance-id": instance_id(number), "instance-action": "terminate", "azId": "use1-az1"}
    if termination:
        detail["instance-termination-time"] = termination
    return event("EC2 Capacity Reservation Instance Interruption Warning", detail, **kwargs)


def record(body, message_id: str | None = None, receipt: str = "rh") -> dict:
    text = body if isinstance(body, str) else json.dumps(body)
    return {"messageId": message_id or f"msg-{next(_ids):06d}", "receiptHandle": receipt, "body": text,
            "eventSourceARN": QUEUE_ARN, "awsRegion": REGION, "attributes": {}}


def node(number: int, pool: str | None = "spot", capacity: str = "spot", instance_type: str = "m5.large",
         zone: str = "us-east-1a", created: str = "2026-11-24T12:00:00Z", unschedulable: bool = False) -> dict:
    labels = {"node.kubernetes.io/instance-type": instance_type, "topology.kubernetes.io/zone": zone,
              "kubernetes.io/hostname": f"ip-10-0-{number}"}
    if pool:
        labels["karpenter.sh/nodepool"] = pool
        labels["karpenter.sh/capacity-type"] = capacity
    else:
        labels["eks.amazonaws.com/capacityType"] = capacity.upper().replace("-", "_")
    spec = {"providerID": f"aws:///{zone}/{instance_id(number)}"}
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "spec": spec,
            "metadata": {"name": node_name(number), "labels": labels, "creationTimestamp": created,
                         "resourceVersion": str(number)}}


def node_name(number: int) -> str:
    return f"ip-10-0-{number // 250}-{number % 250}.ec2.internal"


def nodeclaim(number: int, pool: str = "spot") -> dict:
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
            "metadata": {"name": f"{pool}-{number:05d}", "labels": {"karpenter.sh/nodepool": pool}},
            "status": {"nodeName": node_name(number), "providerID": f"aws:///us-east-1a/{instance_id(number)}"}}


def pod(function: str, node_number: int | None, index: int = 0, ready: bool = True, namespace: str = "openfaas-fn",
        phase: str = "Running", owner_kind: str = "ReplicaSet", mirror: bool = False) -> dict:
    meta = {"name": f"{function}-{index}", "namespace": namespace, "labels": {"faas_function": function},
            "ownerReferences": [{"kind": owner_kind, "name": f"{function}-rs"}]}
    if mirror:
        meta["annotations"] = {"kubernetes.io/config.mirror": "x"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node_name(node_number) if node_number is not None else None},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
