"""The off-hours reconcile's ports: what it reads and writes, as Protocols the real adapters and the tests' fakes both
satisfy (mypy checks both: tests/core/port_fakes.py, run by tests/core/test_types.py), and `OffhoursPorts`, what the
handler runs over (`OffhoursPorts.from_settings`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from chalice_app.slack.port import Notifier

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from chalice_app.config import Settings

from chalice_app.offhours.model import FunctionDeployment, NodePoolLimits


class OffhoursClusterPort(Protocol):
    """The cluster as off-hours sees it (adapter: chalice_app.offhours.cluster.OffhoursCluster)."""

    def functions(self, namespace: str) -> list[FunctionDeployment]: ...
    def function(self, namespace: str, name: str) -> FunctionDeployment: ...
    def openfaas_deployments(self, namespace: str) -> tuple[dict | None, dict | None]: ...
    def namespace_annotations(self, names: list[str]) -> dict[str, dict[str, str]]: ...
    def service_proxy(self, namespace: str, service: str, path: str, query: list | None = None) -> bytes: ...
    def patch_function(self, namespace: str, name: str, patch: dict) -> None: ...
    def karpenter_nodes(self) -> list[dict]: ...
    def pods_on(self, node: str) -> list[dict]: ...
    def all_pods(self) -> list[dict]: ...
    def function_pods(self, namespace: str, name: str) -> list[dict]: ...
    def pending_function_pods(self, namespace: str) -> list[dict]: ...
    def nodepools(self) -> list[NodePoolLimits]: ...
    def patch_nodepool(self, name: str, patch: dict) -> None: ...
    def scale_nodepool(self, name: str, patch: dict) -> None: ...
    def list_nodeclaims(self) -> list[dict]: ...
    def delete_nodeclaim(self, name: str, uid: str) -> None: ...


class ParkedStorePort(Protocol):
    """What off-hours parked, and the daily notes' claims (adapter: chalice_app.offhours.parked.DynamoParkedStore)."""

    def get_many(self, ids: Iterable[str]) -> dict[str, dict]: ...
    def put_new(self, items: dict[str, dict], now: datetime) -> set[str]: ...
    def put(self, key: str, item: dict, now: datetime) -> None: ...
    def delete_many(self, ids: Iterable[str]) -> None: ...
    def claim_note(self, key: str, now: datetime) -> bool: ...
    def release_note(self, key: str, now: datetime) -> None: ...


@dataclass
class OffhoursPorts:
    cluster: OffhoursClusterPort
    store: ParkedStorePort
    notifier: Notifier
    # The stage's own cluster: warm headroom and the savings ledger run on it after the reconcile. None when the
    # cluster is a test's or a benchmark's, which have neither.
    stage_api: ApiClient | None = None
    prices: Callable | None = None  # (on-demand types, spot types) → PriceBook; None: the budget's price source
    # () → the region's instance types (budget.catalog.InstanceType), read only when a parked pool needs a night
    # allowance; None: the configured CPU allowance
    catalog: Callable[[], list] | None = None
    listed: Any = None  # savings.service.ListedFunctions the cluster fills as it lists; None: the ledger lists again
    session: Any = None  # the container's boto3 session for the table clients; None: each client its own

    @classmethod
    def from_settings(cls, settings: Settings) -> OffhoursPorts:
        from chalice_app.kube.client import api_client
        from chalice_app.offhours.cluster import OffhoursCluster
        from chalice_app.offhours.parked import DynamoParkedStore
        from chalice_app.savings.service import ListedFunctions, session_and_store
        from chalice_app.slack.notifier import notifier_from_settings

        api, listed = api_client(settings), ListedFunctions()  # the ledger's needs, taken from the run's own list
        # One boto3 session per container for the table clients (the ledger's own): each new session loads
        # DynamoDB's service model again, ~0.2 s of CPU per client.
        session = session_and_store(settings)[0]
        store = DynamoParkedStore(settings.table_name, client=session.client("dynamodb", region_name=settings.region))
        return cls(OffhoursCluster(api, on_listed=listed), store, notifier_from_settings(settings), stage_api=api,
                   listed=listed, session=session, catalog=lambda: _instance_catalog(session, settings.region))


def _instance_catalog(session, region: str) -> list:
    """The budget feature's catalog (ec2:DescribeInstanceTypes, cached for the container's life by aws_prices)."""
    from chalice_app.budget.aws_prices import instance_catalog

    return instance_catalog(session, region)
