"""EventBridge rules that feed the interruption queue: one per event kind costguard understands."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventRule:
    suffix: str  # rule name = naming.rule_prefix(stage) + suffix
    description: str
    pattern: dict


EVENT_RULES: tuple[EventRule, ...] = (
    EventRule("spot-interruption", "EC2 Spot Instance Interruption Warning",
              {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}),
    EventRule("rebalance", "EC2 Instance Rebalance Recommendation",
              {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]}),
    EventRule("state-change", "EC2 Instance State-change Notification (stopping, stopped, shutting-down, terminated)",
              {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
               "detail": {"state": ["stopping", "stopped", "shutting-down", "terminated"]}}),
    EventRule("scheduled-change", "AWS Health scheduled changes for EC2",
              {"source": ["aws.health"], "detail-type": ["AWS Health Event"],
               "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]}}),
    EventRule("capacity-reservation", "EC2 Capacity Reservation Instance Interruption Warning",
              {"source": ["aws.ec2"], "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"]}),
)
