"""Kubernetes Events as a controller's event recorder writes them (client-go tools/record): a core/v1 Event in the
involved object's namespace, or `default` for cluster-scoped objects such as Nodes and NodeClaims, named
`<object>.<hex nanoseconds>`, so `kubectl describe node` lists them."""
from __future__ import annotations

import itertools
from datetime import datetime

from sandbox.objects import stamp

# client-go stamps names with the wall clock in nanoseconds; events recorded at one simulated moment need a tiebreak.
_SEQUENCE = itertools.count()


def event(obj: dict, reason: str, message: str, at: datetime, component: str = "karpenter",
          event_type: str = "Normal") -> dict:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "default"
    nanos = int(at.timestamp() * 1e9) + next(_SEQUENCE)
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{nanos:x}", "namespace": namespace},
        "involvedObject": {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", ""),
                           "name": meta["name"], "uid": meta.get("uid", ""),
                           **({"namespace": meta["namespace"]} if meta.get("namespace") else {})},
        "reason": reason, "message": message, "type": event_type,
        "source": {"component": component}, "reportingComponent": component, "reportingInstance": "",
        "firstTimestamp": stamp(at), "lastTimestamp": stamp(at), "count": 1,
    }


def record_event(store, obj: dict, reason: str, message: str, at: datetime, **options) -> dict:
    """Write one Event for `obj` into the fake API's store; the Event."""
    return store.put(event(obj, reason, message, at, **options))


def events_for(store, kind: str, name: str) -> list[dict]:
    """The Events about one object, oldest first (what `kubectl describe` shows)."""
    found = [e for e in store.list("v1", "Event")
             if e.get("involvedObject", {}).get("kind") == kind and e["involvedObject"].get("name") == name]
    return sorted(found, key=lambda e: (e.get("lastTimestamp") or "", e["metadata"]["name"]))
