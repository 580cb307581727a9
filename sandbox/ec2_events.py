"""EC2's EventBridge events for the sandbox's instances, sent the way AWS sends them: onto the default event bus,
where the stage's rules (chalice_app.interruptions.rules, made by provisioning) route them to the interruption queue.

moto's EC2 emits no events of its own, so the simulator publishes them with `PutEvents`; EventBridge (moto) adds
`version`, `id`, `account` and `region` itself, which is what AWS's own events carry. Shapes: AWS docs,
"Amazon EC2 instance state change events" and "Spot Instance interruption notices" / "EC2 instance rebalance
recommendations" (docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html,
spot-instance-termination-notices.html, rebalance-recommendations.html).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.aws import ACCOUNT_ID, REGION

STATE_CHANGE = "EC2 Instance State-change Notification"
SPOT_WARNING = "EC2 Spot Instance Interruption Warning"
REBALANCE = "EC2 Instance Rebalance Recommendation"
PUT_EVENTS_BATCH = 10  # PutEvents takes at most 10 entries per call


def instance_arn(instance_id: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"


def _entry(detail_type: str, instance_id: str, detail: dict, at: datetime) -> dict:
    return {"Source": "aws.ec2", "DetailType": detail_type, "Detail": json.dumps(detail),
            "Resources": [instance_arn(instance_id)], "Time": at}


def state_change(instance_id: str, state: str, at: datetime) -> dict:
    """detail: {"instance-id", "state"}; states: pending, running, stopping, stopped, shutting-down, terminated."""
    return _entry(STATE_CHANGE, instance_id, {"instance-id": instance_id, "state": state}, at)


def spot_warning(instance_id: str, at: datetime, action: str = "terminate") -> dict:
    """The two-minute warning; `instance-action` is terminate, stop or hibernate."""
    return _entry(SPOT_WARNING, instance_id, {"instance-id": instance_id, "instance-action": action}, at)


def rebalance(instance_id: str, at: datetime) -> dict:
    return _entry(REBALANCE, instance_id, {"instance-id": instance_id}, at)


@dataclass
class EventPublisher:
    """`events` is moto's EventBridge client, or None (no AWS events: entries are only recorded)."""
    events: object | None
    published: list[dict] = field(default_factory=list)

    def publish(self, *entries: dict) -> None:
        for start in range(0, len(entries), PUT_EVENTS_BATCH):
            batch = list(entries[start:start + PUT_EVENTS_BATCH])
            if self.events is not None:
                response = self.events.put_events(Entries=batch)
                if response.get("FailedEntryCount"):
                    raise RuntimeError(f"PutEvents refused entries: {response['Entries']}")
            self.published.extend(batch)

    def of(self, instance_id: str) -> list[tuple[str, dict]]:
        """(detail-type, detail) of what was published for one instance, in order."""
        return [(e["DetailType"], json.loads(e["Detail"])) for e in self.published
                if json.loads(e["Detail"]).get("instance-id") == instance_id]
