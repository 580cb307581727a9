"""What the cluster's OpenFaaS can hold at zero replicas (pure, from the gateway Deployment or a setting).

- CE: faas-netes' Deployment informer sets any function Deployment at 0 back to 1 (faas-netes
  pkg/handlers/informers.go, applyValidation; openfaas/faas-netes#1112) and its API refuses 0, so a function can be
  parked at 1 at best. costguard parks CE functions with more than one replica at 1 and leaves the rest alone,
  instead of patching them to 0 every 5 minutes. The fix: OpenFaaS Standard/Enterprise (or accept 1 replica).
- Standard/Enterprise: zero holds; the gateway scales a parked function back from zero when it is called
  (handled as a night wake-up). With the chart's `autoscaler.maintainMinimumReplicas: true` the autoscaler scales
  every function without `com.openfaas.scale.zero=true` back to its `com.openfaas.scale.min` (default 1), so zero
  holds only for functions labelled `com.openfaas.scale.zero=true`. The fix: label them, or turn the option off.

Detection: the chart renders the gateway Deployment (`gateway` in the OpenFaaS namespace) with the Pro image and a
`-license-file=` flag only when `openfaasPro` is set (faas-netes chart/openfaas/templates/gateway-dep.yaml).
Settings COSTGUARD_OPENFAAS_EDITION and COSTGUARD_OPENFAAS_MAINTAIN_MINIMUM_REPLICAS override what is detected.
"""
from __future__ import annotations

from dataclasses import dataclass

CE, STANDARD = "ce", "standard"
PRO_IMAGE_PREFIXES = ("ghcr.io/openfaasltd/", "openfaasltd/")
LICENSE_FLAG = "-license-file"
MAINTAIN_MINIMUM_ENV = "maintain_minimum_replicas"  # how the twin/chart passes the option to the autoscaler
CE_FIX = ("OpenFaaS CE sets a function at 0 back to 1 (faas-netes informers.go); it is parked at 1 at best. "
          "Fix: OpenFaaS Standard, or set costguard.openfaas.com/downtime-replicas=1 to make this explicit")
MAINTAIN_FIX = ("OpenFaaS autoscaler.maintainMinimumReplicas scales it back to its minimum; zero holds only for "
                "functions labelled com.openfaas.scale.zero=true. Fix: add that label, or turn the option off")


@dataclass(frozen=True)
class Capabilities:
    edition: str = STANDARD  # "ce" or "standard" (Standard and Enterprise behave the same here)
    maintain_minimum_replicas: bool = False
    source: str = "default"  # "detected from the gateway Deployment", "setting COSTGUARD_OPENFAAS_EDITION", ...

    def floor(self, scale_zero: str | None, scale_min: int | None) -> tuple[int, str | None]:
        """The fewest replicas a function can hold at night, and why when that is not 0."""
        if self.edition == CE:
            return 1, CE_FIX
        if self.maintain_minimum_replicas and (scale_zero or "").strip().lower() != "true":
            return max(scale_min or 1, 1), MAINTAIN_FIX
        return 0, None

    @property
    def scales_from_zero(self) -> bool:
        """A parked function is started by the gateway when called (Standard: the scale-from-zero feature)."""
        return self.edition != CE


def _containers(deployment: dict) -> list[dict]:
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c for c in (spec.get("containers") or []) if isinstance(c, dict)]


def detect(gateway: dict | None, autoscaler: dict | None = None) -> Capabilities:
    """Capabilities from the gateway (and autoscaler) Deployments; CE when the gateway is not the Pro build."""
    if gateway is None:
        return Capabilities(STANDARD, False, "not detected: no gateway Deployment readable; assumed Standard")
    pro = False
    for container in _containers(gateway):
        image = str(container.get("image", ""))
        flags = [str(part) for part in (container.get("command") or []) + (container.get("args") or [])]
        if image.startswith(PRO_IMAGE_PREFIXES) or any(flag.startswith(LICENSE_FLAG) for flag in flags):
            pro = True
    if not pro:
        return Capabilities(CE, False, "detected from the gateway Deployment (CE image, no license flag)")
    maintain = False
    for container in _containers(autoscaler or {}):
        for env in container.get("env") or []:
            if isinstance(env, dict) and env.get("name") == MAINTAIN_MINIMUM_ENV:
                maintain = str(env.get("value", "")).strip().lower() == "true"
    return Capabilities(STANDARD, maintain, "detected from the gateway and autoscaler Deployments")


def resolve(detected: Capabilities, edition_setting: str | None, maintain_setting: bool | None) -> Capabilities:
    """A setting wins over detection, field by field."""
    edition, maintain, sources = detected.edition, detected.maintain_minimum_replicas, [detected.source]
    if edition_setting:
        edition, sources = edition_setting, [f"setting COSTGUARD_OPENFAAS_EDITION={edition_setting}"]
    if maintain_setting is not None:
        maintain = maintain_setting
        sources.append(f"setting COSTGUARD_OPENFAAS_MAINTAIN_MINIMUM_REPLICAS={str(maintain_setting).lower()}")
    return Capabilities(edition, maintain and edition != CE, "; ".join(sources))
