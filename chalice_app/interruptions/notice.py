"""The one normalized shape every handled EventBridge event becomes, whatever its source and detail-type."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from chalice_app.errors import CostguardError


class NoticeKind(str, Enum):
    SPOT_INTERRUPTION = "spot_interruption"
    REBALANCE_RECOMMENDATION = "rebalance_recommendation"
    INSTANCE_STOPPED = "instance_stopped"  # stopping / stopped
    INSTANCE_TERMINATED = "instance_terminated"  # shutting-down / terminated
    SCHEDULED_CHANGE = "scheduled_change"  # AWS Health, EC2, scheduledChange
    CAPACITY_RESERVATION_INTERRUPTION = "capacity_reservation_interruption"
    # AWS Health `closed` / entity `RESOLVED`: ends a maintenance thread, never alerts as a node hit.
    SCHEDULED_CHANGE_CLOSED = "scheduled_change_closed"


# Most urgent first: the order of groups in a Slack message.
KIND_ORDER = (
    NoticeKind.SPOT_INTERRUPTION,
    NoticeKind.CAPACITY_RESERVATION_INTERRUPTION,
    NoticeKind.INSTANCE_TERMINATED,
    NoticeKind.INSTANCE_STOPPED,
    NoticeKind.REBALANCE_RECOMMENDATION,
    NoticeKind.SCHEDULED_CHANGE,
)


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    instance_ids: tuple[str, ...]
    event_id: str
    account: str
    region: str
    time: datetime
    deadline: datetime | None = None  # when the instance goes, where the event says
    # Spot warnings: `terminate`, `stop` or `hibernate` (hibernation begins at once: no two-minute grace).
    instance_action: str | None = None
    # The EventBridge envelope's `region` (where the event was emitted) when `region` comes from elsewhere (AWS
    # Health's `detail.eventRegion`): both must be the stage's for costguard to act.
    delivered_region: str | None = None

    def to_json(self) -> dict:
        return {
            "kind": self.kind.value,
            "instance_ids": list(self.instance_ids),
            "event_id": self.event_id,
            "account": self.account,
            "region": self.region,
            "time": self.time.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "instance_action": self.instance_action,
        }

    @property
    def hibernates(self) -> bool:
        return self.instance_action == "hibernate"


@dataclass(frozen=True)
class Ignored:
    """A well-formed event costguard does not act on (another state, another service, unknown type)."""

    reason: str


class MalformedEvent(CostguardError):
    """The message is not a valid event of a handled kind; the text says which field is wrong."""
