"""Type-only checks, run by mypy (tests/core/test_types.py), never imported by pytest: the real adapters and the
tests' fakes satisfy the same ports, so a fake cannot drift from what the handler calls."""
from chalice_app.budget.cluster import BudgetCluster
from chalice_app.budget.ports import BudgetClusterPort
from chalice_app.offhours.cluster import OffhoursCluster
from chalice_app.offhours.parked import DynamoParkedStore, MemoryParkedStore
from chalice_app.offhours.ports import OffhoursClusterPort, ParkedStorePort
from tests.memory_cluster import BudgetView, MemoryCluster


def offhours_ports(real: OffhoursCluster, fake: MemoryCluster, table: DynamoParkedStore,
                   memory: MemoryParkedStore) -> None:
    clusters: list[OffhoursClusterPort] = [real, fake]
    stores: list[ParkedStorePort] = [table, memory]
    del clusters, stores


def budget_ports(real: BudgetCluster, fake: BudgetView) -> None:
    clusters: list[BudgetClusterPort] = [real, fake]
    del clusters
