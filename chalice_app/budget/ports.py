"""The budget run's ports: the cluster as a Protocol the real adapter and the tests' fake both satisfy (mypy checks
both: tests/core/port_fakes.py, run by tests/core/test_types.py), and `BudgetPorts`, what the handler runs over."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from chalice_app.slack.port import Notifier

if TYPE_CHECKING:
    from chalice_app.budget.aws_prices import PriceSource
    from chalice_app.budget.ledger import Ledger
    from chalice_app.config import Settings


class BudgetClusterPort(Protocol):
    """What the budget reads and patches (adapter: chalice_app.budget.cluster.BudgetCluster)."""

    def nodepools(self) -> list[dict]: ...
    def nodeclaims(self) -> list[dict]: ...
    def nodeclasses(self) -> list[dict]: ...
    def nodes(self) -> list[dict]: ...
    def pods(self, namespaces: list[str]) -> list[dict]: ...
    def patch_nodepool(self, name: str, patch: dict) -> dict: ...


@dataclass
class BudgetPorts:
    """What one budget run reads and writes; `from_settings` builds the stage's."""

    session: boto3.session.Session  # AWS: the instance catalog, prices, Cost Explorer, the run log
    ledger: Ledger  # the stage table's metering and alert records
    cluster: BudgetClusterPort
    notifier: Notifier
    prices: PriceSource | None = None  # None: the AWS Price List API, cached in the ledger
    ce_client: Any = None  # None: Cost Explorer through `session`
    document_session: boto3.session.Session | None = None  # None: Powertools' SSM provider, cached per container

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetPorts:
        """The stage's adapters; the cluster is opened at its first read, after the budget document is read."""
        from chalice_app.budget.cluster import StageBudgetCluster
        from chalice_app.budget.ledger import Ledger
        from chalice_app.slack.notifier import notifier_from_settings

        session = boto3.session.Session()
        return cls(session, Ledger(settings.table_name, session), StageBudgetCluster(settings, session),
                   notifier_from_settings(settings))
