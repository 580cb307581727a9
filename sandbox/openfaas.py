"""The OpenFaaS twin: what faas-netes, the gateway and the autoscaler do to function Deployments, per edition.

- Both editions: the gateway scales a function at 0 replicas to `com.openfaas.scale.min` (default 1) when it is
  invoked (openfaas/faas gateway/scaling/function_scaler.go, `Scale`; chart value gateway.scaleFromZero: true), and
  counts every call in `gateway_function_invocation_total{function_name="<name>.<namespace>", code}` (openfaas/faas
  gateway/metrics/exporter.go; gateway/handlers/notifiers.go names the series `<name>.<namespace>`).
- CE: faas-netes' Deployment informer sets a function Deployment (pod template label `faas_function`) at 0 replicas
  back to 1, and above MaxReplicas (5) down to 5 (openfaas/faas-netes pkg/handlers/informers.go, applyValidation;
  pkg/handlers/replica_reader.go MaxReplicas; openfaas/faas-netes#1112). Its REST API refuses 0:
  system/scale-function answers 400 "replicas cannot be set to 0 in OpenFaaS CE"
  (pkg/handlers/replica_updater.go).
- Standard: the autoscaler scales functions labelled `com.openfaas.scale.zero=true` to 0 once they had no
  invocation for `com.openfaas.scale.zero-duration` (https://docs.openfaas.com/openfaas-pro/scale-to-zero/; the docs
  give no default, the sandbox assumes 15m, the docs' example).
- `maintain_minimum_replicas` (off by default) is NOT an upstream option: issue 9 names a chart value
  `autoscaler.maintainMinimumReplicas`, but no version of openfaas/faas-netes chart/openfaas (values.yaml,
  values-pro.yaml, README.md, templates/autoscaler-dep.yaml) nor openfaas/docs (openfaas-pro/scale-to-zero.md,
  architecture/autoscaling.md) in the sources has it (checked 2026-12-02). When turned on, the twin plays issue 9's
  description — functions WITHOUT `com.openfaas.scale.zero=true` at 0 go back to `com.openfaas.scale.min` (default
  1) — so the product's handling of it can be tried; nothing upstream pins that behaviour.
- A redeploy of an existing function (`faas-cli deploy`, faas-netes pkg/handlers/update.go updateDeploymentSpec):
  the Deployment's annotations and the template's labels and annotations are replaced by the function's; replicas
  are reset to `com.openfaas.scale.min` when that label is set (> 0), else left alone. The CE and Standard providers
  share this code path; on CE the informer then applies as above.
Decisions are pure functions of (Deployment, invocations, time); `OpenFaaS` applies them to the store.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from sandbox import objects
from sandbox.objects import FUNCTION_NAMESPACE, Workload
from sandbox.prometheus import InvocationLog

CE, STANDARD = "ce", "standard"
EDITIONS = (CE, STANDARD)
FUNCTION_LABEL = "faas_function"
SCALE_MIN = "com.openfaas.scale.min"
SCALE_ZERO = "com.openfaas.scale.zero"
SCALE_ZERO_DURATION = "com.openfaas.scale.zero-duration"
CE_MAX_REPLICAS = 5  # faas-netes pkg/handlers/replica_reader.go: "MaxReplicas licensed for OpenFaaS CE is 5/5"
DEFAULT_ZERO_DURATION = timedelta(minutes=15)
_GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class OpenFaaSApiError(Exception):
    """What the OpenFaaS REST API answers with an HTTP error (status, body text)."""

    def __init__(self, status: int, text: str):
        super().__init__(f"{status}: {text}")
        self.status, self.text = status, text


# --- pure decisions ------------------------------------------------------------------------------------------------
def template_labels(deployment: dict) -> dict:
    return ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def is_function(deployment: dict) -> bool:
    """faas-netes recognises a function Deployment by its pod template's `faas_function` label (informers.go)."""
    return FUNCTION_LABEL in template_labels(deployment)


def min_replicas(labels: dict) -> int | None:
    """`com.openfaas.scale.min` as faas-netes reads it (deploy.go getMinReplicaCount): only a positive integer."""
    try:
        value = int(labels.get(SCALE_MIN, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def zero_duration(labels: dict) -> timedelta | None:
    """`com.openfaas.scale.zero-duration` as a Go duration (e.g. 15m, 1h30m); None when unreadable."""
    text = labels.get(SCALE_ZERO_DURATION)
    if text is None:
        return DEFAULT_ZERO_DURATION
    match = _GO_DURATION.match(text.strip())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def ce_informer_target(deployment: dict) -> int | None:
    """CE informer (applyValidation): the replicas it writes, or None when it leaves the Deployment alone."""
    replicas = (deployment.get("spec") or {}).get("replicas")
    if replicas is None or not is_function(deployment):
        return None
    if replicas == 0:
        return 1
    if replicas > CE_MAX_REPLICAS:
        return CE_MAX_REPLICAS
    return None


def standard_autoscaler_target(deployment: dict, last_invoked: datetime | None, idle_since: datetime,
                               now: datetime, maintain_minimum_replicas: bool) -> int | None:
    """Standard's autoscaler: 0 for an idle scale-to-zero function, its minimum for a function at 0 that may not
    sleep when maintainMinimumReplicas is on; None to leave it. `idle_since` is when the twin started watching
    (a function never invoked is idle from then)."""
    if not is_function(deployment):
        return None
    labels = template_labels(deployment)
    replicas = (deployment.get("spec") or {}).get("replicas", 1)
    scales_to_zero = labels.get(SCALE_ZERO, "").strip().lower() == "true"
    if scales_to_zero:
        idle_for = zero_duration(labels)
        quiet_since = max(last_invoked or idle_since, idle_since)
        if replicas > 0 and idle_for is not None and now - quiet_since >= idle_for:
            return 0
        return None
    if maintain_minimum_replicas and replicas == 0:
        return min_replicas(labels) or 1
    return None


def gateway_scale_from_zero(deployment: dict) -> int | None:
    """The gateway on an invocation: a function at 0 goes to its minimum (function_scaler.go `Scale`)."""
    if (deployment.get("spec") or {}).get("replicas", 1) != 0:
        return None
    return min_replicas(template_labels(deployment)) or 1


def redeployed(deployment: dict, labels: dict, annotations: dict, image: str | None, uid: str) -> dict:
    """The Deployment after faas-netes' update handler (update.go updateDeploymentSpec) for this request."""
    updated = {**deployment, "metadata": dict(deployment["metadata"]), "spec": dict(deployment["spec"])}
    name = deployment["metadata"]["name"]
    annotations = dict(annotations)
    annotations.setdefault("prometheus.io.scrape", "false")  # deploy.go buildAnnotations
    template = dict(updated["spec"]["template"])
    template_meta = dict(template.get("metadata") or {})
    template_meta["labels"] = {FUNCTION_LABEL: name, "uid": uid, **labels}
    template_meta["annotations"] = dict(annotations)
    template["metadata"] = template_meta
    if image is not None:
        spec = dict(template["spec"])
        spec["containers"] = [{**spec["containers"][0], "image": image}] + spec["containers"][1:]
        template["spec"] = spec
    updated["spec"]["template"] = template
    updated["metadata"]["annotations"] = dict(annotations)
    minimum = min_replicas(labels)
    if minimum is not None:
        updated["spec"]["replicas"] = minimum
    return updated


# --- the controllers over the store ---------------------------------------------------------------------------------
@dataclass
class OpenFaaSReport:
    informer_reset: list[str] = field(default_factory=list)   # CE: 0 -> 1 (or capped)
    idled: list[str] = field(default_factory=list)            # Standard: scaled to zero
    restored_minimum: list[str] = field(default_factory=list)  # Standard + maintainMinimumReplicas


class OpenFaaS:
    """faas-netes + gateway + autoscaler of one edition over the fake API's store (no threads: `reconcile(now)`)."""

    def __init__(self, store, edition: str = STANDARD, maintain_minimum_replicas: bool = False,
                 clock: Callable[[], datetime] | None = None, namespace: str = FUNCTION_NAMESPACE):
        if edition not in EDITIONS:
            raise ValueError(f"edition={edition!r}: must be one of {', '.join(EDITIONS)}")
        if edition == CE and maintain_minimum_replicas:
            raise ValueError("maintain_minimum_replicas is an option of the OpenFaaS Standard autoscaler, not CE")
        self.store, self.edition, self.namespace = store, edition, namespace
        self.maintain_minimum_replicas = maintain_minimum_replicas
        self.invocations = InvocationLog()
        self._clock = clock
        self._watching_since: datetime | None = None
        self._redeploys = 0

    # --- the gateway ---------------------------------------------------------------------------------------------
    def invoke(self, name: str, at: datetime, namespace: str | None = None, code: int = 200, count: int = 1) -> bool:
        """Call a function through the gateway at `at`; True when the call scaled it from zero."""
        namespace = namespace or self.namespace
        deployment = self._function(name, namespace)
        self.invocations.record(f"{name}.{namespace}", str(code), at, count)
        target = gateway_scale_from_zero(deployment)
        if target is None:
            return False
        deployment["spec"]["replicas"] = target
        self.store.put(deployment)
        return True

    # --- the REST API (faas-netes provider behind the gateway) ---------------------------------------------------
    def scale(self, name: str, replicas: int, namespace: str | None = None) -> None:
        """POST /system/scale-function/<name>."""
        if self.edition == CE and replicas == 0:
            raise OpenFaaSApiError(400, "replicas cannot be set to 0 in OpenFaaS CE")
        deployment = self._function(name, namespace or self.namespace)
        if self.edition == CE:
            replicas = min(replicas, CE_MAX_REPLICAS)
        deployment["spec"]["replicas"] = replicas
        self.store.put(deployment)

    def redeploy(self, name: str, namespace: str | None = None, labels: dict | None = None,
                 annotations: dict | None = None, image: str | None = None) -> dict:
        """`faas-cli deploy` of an existing function: labels/annotations default to the Function resource's (what
        stack.yml says), not to what is on the Deployment now. Returns the stored Deployment."""
        namespace = namespace or self.namespace
        deployment = self._function(name, namespace)
        function = self.store.get("openfaas.com/v1", "Function", namespace, name) or {"spec": {}}
        self._redeploys += 1
        updated = redeployed(deployment,
                             dict(function["spec"].get("labels") or {}) if labels is None else labels,
                             dict(function["spec"].get("annotations") or {}) if annotations is None else annotations,
                             image, str(self._redeploys))
        return self.store.put(updated)

    def deploy(self, name: str, image: str, namespace: str | None = None, labels: dict | None = None,
               annotations: dict | None = None, cpu_m: int = 50, memory_mi: int = 64) -> dict:
        """`faas-cli deploy` of a new function (deploy.go makeDeploymentSpec): replicas com.openfaas.scale.min or 1,
        a new object (new uid). 409-like OpenFaaSApiError when it exists (the REST API answers the create error)."""
        namespace = namespace or self.namespace
        if self.store.get("apps/v1", "Deployment", namespace, name) is not None:
            raise OpenFaaSApiError(500, f'unable create Deployment: deployments.apps "{name}" already exists')
        labels = dict(labels or {})
        annotations = dict(annotations or {})
        annotations.setdefault("prometheus.io.scrape", "false")  # deploy.go buildAnnotations
        work = Workload(name, namespace, image, cpu_m, memory_mi, min_replicas(labels) or 1,
                        {FUNCTION_LABEL: name, **labels}, annotations)
        created = self._clock() if self._clock else datetime.now(timezone.utc)
        deployment = objects.deployment(work, created)
        deployment["metadata"]["uid"] = str(uuid.uuid4())  # a recreated function is a new object
        deployment.pop("status")
        return self.store.put(deployment)

    def remove(self, name: str, namespace: str | None = None) -> None:
        """`faas-cli remove` (delete.go): the Deployment goes, and with it (garbage collection) its pods."""
        namespace = namespace or self.namespace
        self._function(name, namespace)
        self.store.delete("apps/v1", "Deployment", namespace, name)
        for pod in self.store.list("v1", "Pod", namespace):
            if pod["metadata"].get("labels", {}).get(FUNCTION_LABEL) == name:
                self.store.delete("v1", "Pod", namespace, pod["metadata"]["name"])

    # --- controllers ---------------------------------------------------------------------------------------------
    def reconcile(self, now: datetime) -> OpenFaaSReport:
        """One pass of the edition's controllers at `now` (the sim calls it at the start of every settle)."""
        report = OpenFaaSReport()
        if self._watching_since is None:
            self._watching_since = now
        for deployment in self.store.list("apps/v1", "Deployment", self.namespace):
            name = deployment["metadata"]["name"]
            if self.edition == CE:
                target = ce_informer_target(deployment)
                bucket = report.informer_reset
            else:
                target = standard_autoscaler_target(
                    deployment, self.invocations.last_call(f"{name}.{self.namespace}", now), self._watching_since,
                    now, self.maintain_minimum_replicas)
                bucket = report.idled if target == 0 else report.restored_minimum
            if target is not None and target != deployment["spec"].get("replicas"):
                deployment["spec"]["replicas"] = target
                self.store.put(deployment)
                bucket.append(name)
        return report

    def _function(self, name: str, namespace: str) -> dict:
        deployment = self.store.get("apps/v1", "Deployment", namespace, name)
        if deployment is None or not is_function(deployment):
            raise OpenFaaSApiError(404, f"function {name}.{namespace} not found")
        return deployment
