"""One malformed Node, NodeClaim or Pod is that object's error, never the batch's (issue 12).

Objects come from the cluster and are untrusted. Before the correlation, each object is checked against the shape
the Kubernetes API gives it (core/v1 Node and Pod, karpenter.sh/v1 NodeClaim), for exactly the fields the
correlation reads (metadata names, labels, annotations, ownerReferences, timestamps; spec.providerID, taints,
nodeName; status conditions). An object that does not have it is left out, and named: a Node left out still has its
notices alerted with what the event itself says and the bad field named (`malformed_message`); a NodeClaim or Pod
left out only loses its detail in the alert and is reported in the batch's errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from chalice_app.counts import shown
from chalice_app.interruptions.alert import date_token
from chalice_app.interruptions.correlation import Correlation, instance_id_of, parse_time
from chalice_app.interruptions.notice import Notice
from chalice_app.interruptions.unreachable import MAX_THREAD_KEYS, notice_line
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_HEADER_TEXT, SlackMessage
from chalice_app.slack.text import clip, code, escape, fit_lines, fit_words


def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _optional(value: Any, kind: type | tuple[type, ...]) -> bool:
    return value is None or isinstance(value, kind)


def _metadata_problem(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return f"metadata: {shown(meta)} is not an object"
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        return f"metadata.name: {shown(meta.get('name'))} is not a name"
    for key in ("namespace", "uid", "resourceVersion"):
        if not _optional(meta.get(key), str):
            return f"metadata.{key}: {shown(meta.get(key))} is not a string"
    for key in ("labels", "annotations"):
        if meta.get(key) is not None and not _is_str_map(meta[key]):
            return f"metadata.{key}: {shown(meta[key])} is not a map of strings"
    owners = meta.get("ownerReferences")
    if owners is not None and not (isinstance(owners, list) and all(
            isinstance(o, dict) and _optional(o.get("kind"), str) and _optional(o.get("name"), str) for o in owners)):
        return f"metadata.ownerReferences: {shown(owners)} is not a list of owner references"
    for key in ("creationTimestamp", "deletionTimestamp"):
        try:
            if not _optional(meta.get(key), str):
                raise TypeError
            parse_time(meta.get(key))
        except (TypeError, ValueError, OverflowError):
            return f"metadata.{key}: {shown(meta.get(key))} is not an RFC 3339 time"
    return None


def _conditions_problem(status: dict) -> str | None:
    conditions = status.get("conditions")
    if conditions is not None and not (isinstance(conditions, list) and all(isinstance(c, dict) for c in conditions)):
        return f"status.conditions: {shown(conditions)} is not a list of conditions"
    return None


def _sections(obj: dict) -> tuple[Any, Any]:
    return obj.get("spec") or {}, obj.get("status") or {}


def object_problem(kind: str, obj: Any) -> str | None:
    """The first field of a Node, NodeClaim or Pod the correlation reads that is not shaped as the API gives it."""
    if not isinstance(obj, dict):
        return f"{shown(obj)} is not an object"
    problem = _metadata_problem(obj.get("metadata"))
    if problem:
        return problem
    spec, status = _sections(obj)
    if not isinstance(spec, dict) or not isinstance(status, dict):
        return f"spec/status: {shown(spec if not isinstance(spec, dict) else status)} is not an object"
    if kind == "Node":
        if not _optional(spec.get("providerID"), str):
            return f"spec.providerID: {shown(spec.get('providerID'))} is not a string"
        taints = spec.get("taints")
        if taints is not None and not (isinstance(taints, list) and all(
                isinstance(t, dict) and _optional(t.get("key"), str) and _optional(t.get("effect"), str)
                for t in taints)):
            return f"spec.taints: {shown(taints)} is not a list of taints"
    elif kind == "NodeClaim":
        if not _optional(spec.get("expireAfter"), str) or not _optional(status.get("nodeName"), str):
            return f"spec.expireAfter/status.nodeName: {shown(spec.get('expireAfter'))}, " \
                   f"{shown(status.get('nodeName'))} are not strings"
        return _conditions_problem(status)
    elif kind == "Pod":
        if not _optional(spec.get("nodeName"), str) or not _optional(status.get("phase"), str):
            return f"spec.nodeName/status.phase: {shown(spec.get('nodeName'))}, " \
                   f"{shown(status.get('phase'))} are not strings"
        return _conditions_problem(status)
    return None


@dataclass
class Checked:
    """The snapshot's objects the correlation may read, and what was left out."""
    nodes: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    pods: list[dict] = field(default_factory=list)
    bad_nodes: dict[str, str] = field(default_factory=dict)  # instance id → "Node <name>: <field problem>"
    unplaced: list[str] = field(default_factory=list)  # left-out Nodes whose instance cannot be told
    errors: list[str] = field(default_factory=list)  # every object left out, named
    on_node: dict[str, list[str]] = field(default_factory=dict)  # Node name → its NodeClaims and Pods left out


def _name(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return shown(name, 80) if not isinstance(name, str) else name[:80]


def _instances_named(node: Any, instance_ids: Sequence[str]) -> list[str]:
    """The notices' instances a left-out Node stands for: by its providerID when readable, else the notices'
    instance ids its providerID text contains; none when it has no providerID text."""
    spec = node.get("spec") if isinstance(node, dict) else None
    provider = spec.get("providerID") if isinstance(spec, dict) else None
    if not isinstance(provider, str):
        return []
    found = instance_id_of(provider)
    return [found] if found is not None and found in instance_ids else [i for i in instance_ids if i in provider]


def _node_name(kind: str, obj: Any) -> str | None:
    """The Node a left-out NodeClaim (status.nodeName) or Pod (spec.nodeName) is on, when it can be read."""
    section = {"NodeClaim": "status", "Pod": "spec"}.get(kind)
    part = obj.get(section) if section and isinstance(obj, dict) else None
    name = part.get("nodeName") if isinstance(part, dict) else None
    return name if isinstance(name, str) and name else None


def checked_objects(nodes: Sequence, claims: Sequence, pods: Sequence, notices: Sequence[Notice]) -> Checked:
    checked = Checked()
    instance_ids = sorted({i for notice in notices for i in notice.instance_ids})
    for kind, objects, kept in (("Node", nodes, checked.nodes), ("NodeClaim", claims, checked.claims),
                                ("Pod", pods, checked.pods)):
        for obj in objects:
            problem = object_problem(kind, obj)
            if problem is None:
                kept.append(obj)
                continue
            said = f"{kind} {_name(obj)}: {problem}"
            checked.errors.append(f"left out of the correlation: {said}")
            node_name = _node_name(kind, obj)
            if node_name:
                checked.on_node.setdefault(node_name, []).append(said)
            if kind == "Node":
                named = _instances_named(obj, instance_ids)
                for instance_id in named:
                    checked.bad_nodes[instance_id] = said
                if not named:  # its instance cannot be told: every notice not found in the cluster may be it
                    checked.unplaced.append(said)
    return checked


def malformed_message(correlation: Correlation, checked: Checked, cluster: str,
                      now: datetime) -> tuple[SlackMessage, frozenset[str]] | None:
    """The alert for the notices whose Node was left out: what the event says, and the Node's bad field."""
    missing = {instance_id for _, instance_id in correlation.not_in_cluster}
    bad_nodes = {instance_id: said for instance_id, said in checked.bad_nodes.items() if instance_id in missing}
    unplaced = checked.unplaced + sorted({said for instance_id, said in checked.bad_nodes.items()
                                          if instance_id not in missing})
    if unplaced:  # a left-out Node whose providerID cannot be read may be any instance not found
        bad_nodes.update({instance_id: f"not found; a Node left out may be it ({'; '.join(unplaced)})"
                          for instance_id in missing if instance_id not in bad_nodes})
    pairs = [(notice, instance_id) for notice, instance_id in correlation.not_in_cluster if instance_id in bad_nodes]
    if not pairs:
        return None
    notices = list({notice.event_id: notice for notice, _ in pairs}.values())
    ids = list(dict.fromkeys(instance_id for _, instance_id in pairs))
    header = clip(f"{len(notices)} interruption notice{'s' if len(notices) != 1 else ''} — node malformed",
                  MAX_HEADER_TEXT)
    lines = [notice_line(notice) for notice in notices]
    lines += [f"• {code(instance_id)}: {escape(bad_nodes[instance_id])}" for instance_id in ids]
    context = (f"Cluster {code(cluster)}: the Node of these instances has a field costguard cannot read, so its "
               f"NodePool and functions are not known; the other notices were correlated as usual. {date_token(now)}")
    blocks = [kit.HeaderBlock(text=kit.PlainTextObject(text=header)),
              kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(lines, noun="more lines"))),
              kit.ContextBlock(elements=[kit.MarkdownTextObject(text=context)])]
    message = SlackMessage(text="node malformed: " + fit_words(ids, 600, "instances"),
                           blocks=[block.to_dict() for block in blocks], thread_keys=tuple(ids[:MAX_THREAD_KEYS]))
    return message, frozenset(notice.event_id for notice in notices)


def left_out_note(correlation: Correlation, checked: Checked) -> tuple[SlackMessage, frozenset[str]] | None:
    """A reply in the alerted nodes' threads naming their NodeClaims and Pods that were left out (their functions
    are missing from the alert); it settles no notice, the alert itself did."""
    lines, ids = [], []
    for impact in correlation.impacts:
        for said in checked.on_node.get(impact.node.name, ()):
            lines.append(f"• {code(impact.node.instance_id)}: {escape(said)}")
            ids.append(impact.node.instance_id)
    if not lines:
        return None
    ids = list(dict.fromkeys(ids))
    body = "Left out of the alert above (a field costguard cannot read), so functions on these nodes may be " \
           "missing from it:\n" + "\n".join(lines)
    blocks = [kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(body.split("\n"), noun="more lines")))]
    message = SlackMessage(text="left out: " + fit_words(ids, 600, "instances"),
                           blocks=[block.to_dict() for block in blocks], thread_keys=tuple(ids[:MAX_THREAD_KEYS]),
                           opens_thread=False)
    return message, frozenset()


def isolation_messages(correlation: Correlation, checked: Checked, cluster: str,
                       now: datetime) -> list[tuple[SlackMessage, frozenset[str]]]:
    """What the left-out objects add to the batch's messages: the alert for left-out Nodes, the note for the rest."""
    return [part for part in (malformed_message(correlation, checked, cluster, now),
                              left_out_note(correlation, checked)) if part is not None]
