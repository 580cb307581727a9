"""Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` answered with a meta.k8s.io Table,
as kube-apiserver does for `kubectl get` (kubectl prints the Table's columns; without one it falls back to NAME/AGE).

- Custom resources: a Name column, then the CRD version's `additionalPrinterColumns`, or `Age` when it has none
  (kubernetes/kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor/
  tableconvertor.go, and serveDefaultColumnsIfEmpty in apiextensions-apiserver's customresource_handler.go).
  Cells: `date` columns as a human-readable age, `integer`/`number`/`boolean` typed, `string` as printed.
- Built-ins: the columns of kube-apiserver's printers (pkg/printers/internalversion/printers.go) for the kinds the
  sandbox serves; wide columns have priority 1.
- Rows carry the object's metadata as PartialObjectMetadata (`includeObject=Metadata`, the default), the whole
  object with `includeObject=Object`, nothing with `None`.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Callable

from jsonpath_ng.ext import parse as parse_jsonpath

from sandbox.kubeapi.resources import ResourceType
from sandbox.kubeapi.selectors import label_selector_string

Row = Callable[[dict, datetime], list]
NAME = {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace."}
AGE = {"name": "Age", "type": "date", "format": "", "description": "CreationTimestamp of the object."}


def wants_table(accept: str) -> str | None:
    """The Table version asked for ("v1" or "v1beta1"), or None when the client wants the plain object."""
    for media_type in accept.split(","):
        parameters = {key.strip(): value.strip() for key, _, value in
                      (part.partition("=") for part in media_type.split(";")[1:])}
        if parameters.get("as") == "Table" and parameters.get("g") == "meta.k8s.io":
            return parameters.get("v", "v1")
    return None


def human_age(created: str | None, now: datetime) -> str:
    """apimachinery's duration.HumanDuration of now - created, as kubectl shows ages ("<unknown>" when absent)."""
    if not created:
        return "<unknown>"
    try:
        then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "<invalid>"
    seconds = int((now - then).total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years, rest = days // 365, days % 365
    if hours < 24 * 365 * 8:
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


# ---- custom resources: additionalPrinterColumns ---------------------------------------------------------------

_SEGMENTS = re.compile(r"((?:\\\.|\[[^\]]*\]|[^.\[])+(?:\[[^\]]*\])*)")


def _to_jsonpath_ng(kube_path: str) -> str:
    """kubectl's JSONPath subset of printer columns (`.a.b\\.c/d`, `[?(@.type=="Ready")]`) in jsonpath-ng syntax."""
    parts = []
    for segment in _SEGMENTS.findall(kube_path.strip().lstrip(".")):
        field, bracket, rest = segment.partition("[")
        field = field.replace("\\.", ".")
        parts.append(json.dumps(field) + (bracket + rest if bracket else ""))
    return "$." + ".".join(parts)


def _cell(column_type: str, value: Any, now: datetime) -> Any:
    if value is None:
        return None
    if column_type == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if column_type == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if column_type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return human_age(value, now)
    return None


def custom_columns(printer_columns: tuple[dict, ...]) -> tuple[list[dict], Row]:
    columns = list(printer_columns) or [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    paths = [parse_jsonpath(_to_jsonpath_ng(column["jsonPath"])) for column in columns]
    definitions = [NAME] + [{"name": c["name"], "type": c["type"], "format": c.get("format", ""),
                             "description": c.get("description") or f"Custom resource definition column (in "
                                                                    f"JSONPath format): {c['jsonPath']}",
                             "priority": c.get("priority", 0)} for c in columns]

    def row(obj: dict, now: datetime) -> list:
        cells: list = [obj["metadata"]["name"]]
        for column, path in zip(columns, paths):
            found = path.find(obj)
            cells.append(_cell(column["type"], found[0].value, now) if found else None)
        return cells

    return definitions, row


# ---- built-ins: kube-apiserver's printers ---------------------------------------------------------------------

def _column(name: str, kind: str = "string", priority: int = 0, description: str = "") -> dict:
    return {"name": name, "type": kind, "format": "", "description": description, "priority": priority}


def _node_row(node: dict, now: datetime) -> list:
    status, labels = node.get("status") or {}, node["metadata"].get("labels") or {}
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = {"True": "Ready", "False": "NotReady"}.get(ready, "Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted({key.split("/", 1)[1] for key in labels if key.startswith("node-role.kubernetes.io/")} |
                   ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    info = status.get("nodeInfo") or {}
    return [node["metadata"]["name"], state, ",".join(roles) or "<none>",
            human_age(node["metadata"].get("creationTimestamp"), now), info.get("kubeletVersion", ""),
            addresses.get("InternalIP", "<none>"), addresses.get("ExternalIP", "<none>"), info.get("osImage", ""),
            info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


def _deployment_row(deployment: dict, now: datetime) -> list:
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return [deployment["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0),
            human_age(deployment["metadata"].get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"]


def _pod_row(pod: dict, now: datetime) -> list:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    if not statuses:  # the sandbox's pods carry only a Ready condition
        ready = int(any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []))
    return [pod["metadata"]["name"], f"{ready}/{len(spec.get('containers') or [])}",
            status.get("reason") or status.get("phase", "Unknown"),
            str(sum(s.get("restartCount", 0) for s in statuses)), human_age(pod["metadata"].get("creationTimestamp"), now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", "<none>"]


def _namespace_row(namespace: dict, now: datetime) -> list:
    return [namespace["metadata"]["name"], (namespace.get("status") or {}).get("phase", "Active"),
            human_age(namespace["metadata"].get("creationTimestamp"), now)]


def _pdb_row(pdb: dict, now: datetime) -> list:
    spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
    return [pdb["metadata"]["name"], str(spec.get("minAvailable", "N/A")), str(spec.get("maxUnavailable", "N/A")),
            status.get("disruptionsAllowed", 0), human_age(pdb["metadata"].get("creationTimestamp"), now)]


def _policy_row(policy: dict, now: datetime) -> list:
    spec = policy.get("spec") or {}
    param_kind = spec.get("paramKind")
    return [policy["metadata"]["name"], len(spec.get("validations") or []),
            f"{param_kind.get('apiVersion', '')}/{param_kind.get('kind', '')}" if param_kind else "<unset>",
            human_age(policy["metadata"].get("creationTimestamp"), now)]


def _policy_binding_row(binding: dict, now: datetime) -> list:
    spec = binding.get("spec") or {}
    ref = spec.get("paramRef") or {}
    param = "<unset>"
    if ref.get("name"):
        param = f"{ref.get('namespace') or '*'}/{ref['name']}"
    elif ref.get("selector") is not None:
        param = label_selector_string(ref["selector"])
    return [binding["metadata"]["name"], spec.get("policyName", ""), param,
            human_age(binding["metadata"].get("creationTimestamp"), now)]


BUILTIN: dict[str, tuple[list[dict], Row]] = {
    "nodes": ([NAME, _column("Status"), _column("Roles"), AGE, _column("Version"),
               _column("Internal-IP", priority=1), _column("External-IP", priority=1),
               _column("OS-Image", priority=1), _column("Kernel-Version", priority=1),
               _column("Container-Runtime", priority=1)], _node_row),
    "deployments": ([NAME, _column("Ready"), _column("Up-to-date", "integer"), _column("Available", "integer"),
                     AGE, _column("Containers", priority=1), _column("Images", priority=1),
                     _column("Selector", priority=1)], _deployment_row),
    "pods": ([NAME, _column("Ready"), _column("Status"), _column("Restarts", "string"), AGE,
              _column("IP", priority=1), _column("Node", priority=1), _column("Nominated Node", priority=1),
              _column("Readiness Gates", priority=1)], _pod_row),
    "namespaces": ([NAME, _column("Status"), AGE], _namespace_row),
    "poddisruptionbudgets": ([NAME, _column("Min Available"), _column("Max Unavailable"),
                              _column("Allowed Disruptions", "integer"), AGE], _pdb_row),
    # printValidatingAdmissionPolicy{,Binding} in pkg/printers/internalversion/printers.go
    "validatingadmissionpolicies": ([NAME, _column("Validations", "integer"), _column("ParamKind"), AGE],
                                    _policy_row),
    "validatingadmissionpolicybindings": ([NAME, _column("PolicyName"), _column("ParamRef"), AGE],
                                          _policy_binding_row),
}
_DEFAULT = ([NAME, {"name": "Created At", "type": "date", "format": "", "description": ""}],
            lambda obj, now: [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp")])


def _row_object(obj: dict, include: str) -> dict | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def to_table(resource: ResourceType, payload: bytes, version: str, query: dict[str, str],
             printer_columns: tuple[dict, ...] | None, now: datetime | None = None) -> bytes:
    """The list or object in `payload` (as the verb handlers answer it) as a meta.k8s.io Table."""
    now = now or datetime.now(timezone.utc)
    document = json.loads(payload)
    if resource.custom:
        definitions, row = custom_columns(printer_columns or ())
    else:
        definitions, row = BUILTIN.get(resource.plural, _DEFAULT)
    items = document.get("items") if "items" in document else [document]
    include = query.get("includeObject", "Metadata")
    metadata = {key: value for key, value in (document.get("metadata") or {}).items()
                if key in ("resourceVersion", "continue", "remainingItemCount")} if "items" in document else {}
    table = {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": metadata,
             "rows": [{"cells": row(obj, now), "object": _row_object(obj, include)} for obj in items]}
    if query.get("noHeaders") != "true":
        table["columnDefinitions"] = definitions
    return json.dumps(table, separators=(",", ":")).encode()
