"""The interruption batch's cluster adapter (InterruptionClusterPort) over the stage's Kubernetes API: one snapshot
read, node actions (real, or described in a dry run), node Events. The client is opened at the first call, so a
batch of ignored events never opens the cluster."""
from __future__ import annotations

from typing import Sequence

from chalice_app.config import Settings
from chalice_app.interruptions.actions import Action, ActionOutcome, NodeAction, dry_run_outcome
from chalice_app.interruptions.cluster import ClusterSnapshot, pods_on_node, read_snapshot
from chalice_app.interruptions.kube_actions import apply_action
from chalice_app.interruptions.node_events import record_events
from chalice_app.kube.client import api_client
from chalice_app.observability import logger


class KubeInterruptionCluster:
    def __init__(self, settings: Settings):
        self._settings = settings

    def read_snapshot(self) -> ClusterSnapshot:
        return read_snapshot(api_client(self._settings), self._settings.function_namespaces)

    def act(self, action: NodeAction) -> ActionOutcome:
        api = api_client(self._settings)
        if self._settings.dry_run:
            pods = pods_on_node(api, action.node) if action.action is Action.CORDON_AND_DRAIN else []
            outcome = dry_run_outcome(action, pods)
            logger.info("dry run: would act on node", extra={"node": action.node, "action": action.action.value,
                                                             "would_evict": list(outcome.evicted)})
            return outcome
        return apply_action(api, action)

    def record_events(self, bodies: Sequence[dict]) -> list[str]:
        if not bodies or self._settings.dry_run:
            return []
        return record_events(api_client(self._settings), bodies)
