"""The digests run's ports, as Protocols the real adapters and the tests' fakes both satisfy (mypy checks both:
tests/core/port_fakes.py), and `DigestPorts.from_settings`, the bundle the handler runs over."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

from chalice_app.slack.port import Notifier

if TYPE_CHECKING:
    from chalice_app.config import Settings


class DigestClaimsPort(Protocol):
    """Each digest period claimed once (adapter: chalice_app.digests.handler.DigestClaims)."""

    def claim(self, key: str, now: datetime) -> bool: ...
    def release(self, key: str) -> None: ...


class DigestCountsPort(Protocol):
    """The interruption counters (adapter: chalice_app.interruptions.records.InterruptionRecords)."""

    def counts(self, keys: Sequence[str]) -> Mapping[str, Counter]: ...


@dataclass
class DigestPorts:
    claims: DigestClaimsPort
    counters: DigestCountsPort
    notifier: Notifier

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestPorts:
        """The stage table (one DynamoDB client) and Slack, which reads SSM only when there is something to send."""
        import boto3

        from chalice_app.digests.handler import DigestClaims
        from chalice_app.interruptions.records import InterruptionRecords
        from chalice_app.slack.notifier import LazyNotifier

        client = boto3.client("dynamodb", region_name=settings.region)
        return cls(DigestClaims(settings.table_name, client), InterruptionRecords(settings.table_name, client),
                   LazyNotifier(settings))
