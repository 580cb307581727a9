"""The interruption batch's ports: what it reads and writes, as Protocols the real adapters and the tests' fakes both
satisfy (mypy checks both: tests/core/port_fakes.py, run by tests/core/test_types.py), and `InterruptionPorts`, the
bundle `process_batch` runs over, built from the settings by `InterruptionPorts.from_settings`.

Adapters are imported inside `from_settings`: the batch (and its tests) load only what they call.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable, Iterable, Protocol, Sequence

from chalice_app.interruptions.actions import ActionOutcome, NodeAction
from chalice_app.interruptions.cluster import ClusterSnapshot
from chalice_app.interruptions.correlation import NodeImpact
from chalice_app.interruptions.ledger import Claim
from chalice_app.interruptions.notice import Notice
from chalice_app.slack.port import Notifier

if TYPE_CHECKING:
    from chalice_app.config import Settings


class NoticeLedgerPort(Protocol):
    """Each notice claimed once (adapter: chalice_app.interruptions.ledger.NoticeLedger)."""

    def claim_all(self, notices: Sequence[Notice]) -> list[Claim]: ...
    def done_all(self, notices: Sequence[Notice]) -> None: ...
    def release_all(self, notices: Sequence[Notice], reason: Exception) -> None: ...


class InterruptionRecordsPort(Protocol):
    """Instances hit before, and the digests' counters (adapter: chalice_app.interruptions.records.InterruptionRecords).
    `recall`: instance ids → {id: (remembered NodeFacts, functions then)}."""

    def recall(self, instance_ids: Iterable[str]) -> dict: ...
    def remember(self, impacts: Sequence[NodeImpact]) -> None: ...
    def add_counts(self, key: str, counts: Counter, lifetime: timedelta) -> None: ...


class InterruptionClusterPort(Protocol):
    """The cluster as the batch sees it (adapter: chalice_app.interruptions.kube_cluster.KubeInterruptionCluster)."""

    def read_snapshot(self) -> ClusterSnapshot: ...
    def act(self, action: NodeAction) -> ActionOutcome: ...  # real or dry-run
    def record_events(self, bodies: Sequence[dict]) -> list[str]: ...  # Event bodies → one line per failure


class NoRecords:
    """Nothing remembered, nothing counted (tests that are not about the stage table's records)."""

    def recall(self, instance_ids: Iterable[str]) -> dict:
        return {}

    def remember(self, impacts: Sequence[NodeImpact]) -> None:
        return None

    def add_counts(self, key: str, counts: Counter, lifetime: timedelta) -> None:
        return None


@dataclass
class InterruptionPorts:
    ledger: NoticeLedgerPort
    cluster: InterruptionClusterPort
    notifier: Notifier  # raises when Slack does not accept the message
    plan_actions: Callable[[tuple[NodeImpact, ...]], tuple[NodeAction, ...]]  # the stage's action policy (pure)
    clock: Callable[[], datetime]
    cluster_name: str
    records: InterruptionRecordsPort = field(default_factory=NoRecords)
    action_workers: int = 4  # nodes acted on at once

    @classmethod
    def from_settings(cls, settings: Settings, context=None) -> InterruptionPorts:
        """The stage's adapters; `context` (the Lambda's) bounds the ledger's waits by the time left."""
        from functools import partial

        from chalice_app import aws_clients
        from chalice_app.interruptions.actions import plan_actions
        from chalice_app.interruptions.kube_cluster import KubeInterruptionCluster
        from chalice_app.interruptions.ledger import NoticeLedger
        from chalice_app.interruptions.records import InterruptionRecords
        from chalice_app.slack.notifier import LazyNotifier

        dynamodb = aws_clients.client("dynamodb", settings.region)  # made once per container
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return cls(
            ledger=NoticeLedger(settings.table_name, client=dynamodb, remaining_ms=remaining),
            cluster=KubeInterruptionCluster(settings),
            notifier=LazyNotifier(settings),
            plan_actions=partial(plan_actions, per_pool=settings.interruption_actions,
                                 default=settings.default_interruption_action,
                                 rebalance_pools=frozenset(settings.interruption_rebalance_pools)),
            clock=lambda: datetime.now(timezone.utc), cluster_name=settings.cluster_name,
            records=InterruptionRecords(settings.table_name, dynamodb))
