"""Opt-in: delete the empty NodeClaims of parked NodePools that Karpenter leaves running (pure planner, thin adapter).

A zero limit stops launches, but only consolidation removes nodes, and it does not with `consolidateAfter: Never`,
a disruption budget of 0, or `consolidationPolicy: WhenEmpty` waiting on nothing (nodes.py reports why each node
stays). With COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS=N (0, the default: off) each run deletes at most N NodeClaims
of pools parked for NODE_REPORT_AFTER whose nodes run no reschedulable pod. Deleting a NodeClaim is what
`kubectl delete nodeclaim` does: Karpenter's termination then taints, drains and terminates the instance
(karpenter.sh docs concepts/disruption, "Manual Methods"; kubernetes-sigs/karpenter
pkg/controllers/nodeclaim/lifecycle/termination.go).

"Empty" is Karpenter's own rule (kubernetes-sigs/karpenter pkg/utils/pod/scheduling.go `IsReschedulable`): a pod
counts unless it is terminal (Succeeded/Failed), terminating (a StatefulSet's terminating pod still counts), owned by
a DaemonSet, or a mirror pod (owned by its Node). Never deleted: a NodeClaim already deleting, a node or NodeClaim or
pod annotated `karpenter.sh/do-not-disrupt: "true"`, a node not registered yet, a pool a woken function holds a night
allowance on (its pod may be on its way to that node).

Before each deletion the instance is remembered in the stage table as costguard's own (interruptions.records
`offhours_deletion_facts`), so the EC2 termination that follows is no interruption alert (issue 10's classification).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalice_app.kube.names import (CAPACITY_TYPE_LABEL, DO_NOT_DISRUPT, INSTANCE_TYPE_LABEL, NIGHT_ALLOWANCE,
                                    NODEPOOL_LABEL, ZONE_LABEL)
from chalice_app.offhours.nodes import marked_do_not_disrupt, pool_blockers, reschedulable
from chalice_app.offhours.runreport import _describe


@dataclass(frozen=True)
class NodeClaimDeletion:
    nodeclaim: str
    uid: str
    node: str
    pool: str
    instance_id: str
    instance_type: str
    capacity_type: str
    zone: str
    reason: str

    def line(self) -> str:
        return f"NodeClaim {self.nodeclaim} (node {self.node}, {self.pool}, {self.instance_type}): {self.reason}"


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def instance_id_of(claim: dict) -> str | None:
    provider = str((claim.get("status") or {}).get("providerID") or "")
    tail = provider.rsplit("/", 1)[-1]
    return tail if tail.startswith("i-") else None


def plan_deletions(parked_pools: dict[str, dict], claims: list[dict], nodes: list[dict],
                   pods_by_node: dict[str, list[dict]], limit: int) -> tuple[list[NodeClaimDeletion], list[str]]:
    """The NodeClaims to delete this run (at most `limit`, by pool then node name), and one line per empty NodeClaim
    held back (do-not-disrupt, the cap). `parked_pools`: name → NodePool object of the dynamic pools parked long
    enough; `pods_by_node` must hold every node of those pools."""
    if limit <= 0:
        return [], []
    by_name = {str(_meta(n).get("name")): n for n in nodes}
    found: list[NodeClaimDeletion] = []
    held: list[str] = []
    for claim in sorted(claims, key=lambda c: (str((_meta(c).get("labels") or {}).get(NODEPOOL_LABEL, "")),
                                               str((c.get("status") or {}).get("nodeName", "")))):
        meta = _meta(claim)
        pool_name = str((meta.get("labels") or {}).get(NODEPOOL_LABEL, ""))
        pool = parked_pools.get(pool_name)
        node = by_name.get(str((claim.get("status") or {}).get("nodeName") or ""))
        instance = instance_id_of(claim)
        if pool is None or node is None or instance is None or meta.get("deletionTimestamp") \
                or _meta(node).get("deletionTimestamp"):
            continue  # not ours to judge, not launched, or already going
        if NIGHT_ALLOWANCE in (_meta(pool).get("annotations") or {}):
            continue  # a woken function holds capacity on this pool: its pod may be on its way here
        pods = pods_by_node.get(str(_meta(node)["name"]), [])
        if any(reschedulable(pod) for pod in pods):
            continue
        name = str(meta.get("name"))
        if any(marked_do_not_disrupt(obj) for obj in (node, claim, *pods)):
            held.append(f"NodeClaim {name}: empty but marked {DO_NOT_DISRUPT}; left alone")
            continue
        if len(found) >= limit:
            held.append(f"NodeClaim {name}: empty; beyond this run's limit of {limit}, next run")
            continue
        labels = _meta(node).get("labels") or {}
        blockers = "; ".join(pool_blockers(pool)) or "consolidation has not removed it"
        found.append(NodeClaimDeletion(name, str(meta.get("uid") or ""), str(_meta(node)["name"]), pool_name,
                                       instance, str(labels.get(INSTANCE_TYPE_LABEL, "?")),
                                       str(labels.get(CAPACITY_TYPE_LABEL, "on-demand")),
                                       str(labels.get(ZONE_LABEL, "")),
                                       f"empty in parked NodePool {pool_name} ({blockers}): deleted"))
    return found, held


def reap(cluster, store, config, reapable: tuple[dict, list, dict], report) -> None:
    """Plan and (unless a dry run) delete this run's empty NodeClaims into `report`; the deleted nodes leave the
    list of nodes that stay. A NodeClaim list that fails is the run's read error, nothing else is touched."""
    pools, nodes, pods_by_node = reapable
    if not pools:
        return
    try:
        claims = cluster.list_nodeclaims()
    except Exception as error:  # noqa: BLE001 - reported; the next tick tries again
        report.read_errors.append(("NodeClaims", _describe(error)))
        return
    deletions, held = plan_deletions(pools, claims, nodes, pods_by_node, config.delete_empty_nodeclaims)
    report.notes.extend(held)
    if config.dry_run:
        report.notes.extend(f"[dry run] would delete {deletion.line()}" for deletion in deletions)
        return
    report.deleted_nodeclaims, report.nodeclaim_errors, skipped = delete_nodeclaims(cluster, store, deletions,
                                                                                    report.now)
    report.notes.extend(skipped)
    gone = {deletion.node for deletion in report.deleted_nodeclaims}
    report.nodes = [stay for stay in report.nodes if stay.node not in gone]


def delete_nodeclaims(cluster, store, deletions: list[NodeClaimDeletion],
                      now) -> tuple[list[NodeClaimDeletion], list[tuple[str, str]], list[str]]:
    """The thin adapter: remember each instance as costguard's own deletion, then DELETE the NodeClaim (uid as
    precondition: a NodeClaim recreated under the name is not the one judged empty). (deleted, errors, notes)."""
    from chalice_app.interruptions.records import offhours_deletion_facts  # only when something is deleted
    from chalice_app.table_keys import hit_key

    done, errors, notes = [], [], []
    for deletion in deletions:
        key = hit_key(deletion.instance_id)
        facts = offhours_deletion_facts(deletion.instance_id, deletion.node, deletion.pool, deletion.nodeclaim,
                                        deletion.capacity_type, deletion.instance_type, deletion.zone, now)
        try:
            if key not in store.put_new({key: {"facts": json.dumps(facts)}}, now) and not _ours(store, key):
                # The instance was hit already (a spot warning...): its record stays, and so does the node.
                notes.append(f"NodeClaim {deletion.nodeclaim}: empty, but its instance {deletion.instance_id} has "
                             f"an interruption record; not deleted")
                continue
        except Exception as error:  # noqa: BLE001 - without the record the termination would alert: not deleted
            errors.append((f"NodeClaim {deletion.nodeclaim}", f"not deleted: {_describe(error)}"))
            continue
        try:
            cluster.delete_nodeclaim(deletion.nodeclaim, deletion.uid)
            done.append(deletion)
        except Exception as error:  # noqa: BLE001 - one NodeClaim's failure is reported, the others go on
            errors.append((f"NodeClaim {deletion.nodeclaim}", _describe(error)))
            try:
                store.delete_many([key])  # not deleted: a later real reclaim of it must still alert
            except Exception:  # noqa: BLE001 - the record expires by itself
                pass
    return done, errors, notes


def _ours(store, key: str) -> bool:
    """A record of an earlier run's deletion of the same instance (a run that stopped before its DELETE)."""
    from chalice_app.interruptions.correlation import OFFHOURS_DELETION

    try:
        facts = json.loads(store.get_many([key]).get(key, {}).get("facts") or "{}")
    except (TypeError, ValueError):
        return False
    return isinstance(facts, dict) and facts.get("disruption_reason") == OFFHOURS_DELETION
