"""Type-only checks, run by mypy (tests/core/test_types.py), never imported by pytest: the real adapters and the
tests' fakes satisfy the same ports, so a fake cannot drift from what the handler calls."""
from chalice_app.budget.cluster import BudgetCluster, StageBudgetCluster
from chalice_app.budget.ports import BudgetClusterPort
from chalice_app.digests.handler import DigestClaims
from chalice_app.digests.ports import DigestClaimsPort, DigestCountsPort
from chalice_app.interruptions.kube_cluster import KubeInterruptionCluster
from chalice_app.interruptions.ledger import NoticeLedger
from chalice_app.interruptions.ports import (InterruptionClusterPort, InterruptionRecordsPort, NoRecords,
                                             NoticeLedgerPort)
from chalice_app.interruptions.records import InterruptionRecords
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.parked import DynamoParkedStore, MemoryParkedStore
from chalice_app.offhours.ports import OffhoursClusterPort, ParkedStorePort
from chalice_app.slack.notifier import LazyNotifier
from chalice_app.slack.port import LoggingNotifier, Notifier
from tests.memory_cluster import BudgetView, FreshLedger, MemoryCluster, SnapshotReader
from tests.slackfakes import RecordingNotifier


def offhours_ports(real: OffhoursCluster, fake: MemoryCluster, table: DynamoParkedStore,
                   memory: MemoryParkedStore) -> None:
    clusters: list[OffhoursClusterPort] = [real, fake]
    stores: list[ParkedStorePort] = [table, memory]
    del clusters, stores


def budget_ports(real: BudgetCluster, stage: StageBudgetCluster, fake: BudgetView) -> None:
    clusters: list[BudgetClusterPort] = [real, stage, fake]
    del clusters


def interruption_ports(real: KubeInterruptionCluster, fake: SnapshotReader, ledger: NoticeLedger,
                       fresh: FreshLedger, table: InterruptionRecords, none: NoRecords) -> None:
    clusters: list[InterruptionClusterPort] = [real, fake]
    ledgers: list[NoticeLedgerPort] = [ledger, fresh]
    records: list[InterruptionRecordsPort] = [table, none]
    del clusters, ledgers, records


def slack_ports(lazy: LazyNotifier, logging: LoggingNotifier, fake: RecordingNotifier) -> None:
    notifiers: list[Notifier] = [lazy, logging, fake]
    del notifiers


def digest_ports(claims: DigestClaims, table: InterruptionRecords) -> None:
    claimers: list[DigestClaimsPort] = [claims]
    counters: list[DigestCountsPort] = [table]
    del claimers, counters
