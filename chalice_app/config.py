"""One typed settings object read from the environment (Chalice stage `environment_variables`).

Every variable is `COSTGUARD_<FIELD>`; a missing or malformed one raises ConfigError naming the variable and
what it expects, so a bad deploy fails on its first invocation with a line an operator can fix.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from chalice_app.errors import ConfigError

ENV_PREFIX = "COSTGUARD_"
InterruptionAction = Literal["alert", "cordon", "cordon-and-drain"]


# A plain model read by load_settings, not pydantic-settings' BaseSettings: the values are always handed over as
# keyword arguments (one mapping for the CLI, tests and Lambda), so its sources were unused, and importing it loads
# asyncio, argparse and python-dotenv into every Lambda (~0.1 s of each cold start, benchmarks/bench_cold_start.py).
# validate_default as BaseSettings does: the defaults are checked like the variables.
class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)

    stage: str = Field("dev", pattern=r"^[a-z][a-z0-9-]{0,20}$", description="deployment stage name")
    cluster_name: str = Field(..., min_length=1, description="EKS cluster name")
    region: str = Field(default_factory=lambda: os.environ.get("AWS_REGION", "us-east-1"))
    # Overrides for local use and the sandbox; on Lambda the endpoint and CA come from eks:DescribeCluster.
    kube_endpoint: str | None = Field(None, pattern=r"^https?://")
    kube_ca_data: str | None = None

    function_namespaces: list[str] = Field(default_factory=lambda: ["openfaas-fn"], min_length=1)
    table_name: str = Field(..., min_length=3, description="DynamoDB table for idempotency and the ledger")
    slack_webhook_parameter: str | None = Field(None, pattern=r"^/")
    slack_bot_token_parameter: str | None = Field(None, pattern=r"^/")
    slack_channel: str | None = None
    slack_api_base_url: str | None = Field(None, pattern=r"^https?://.*/$")  # Slack Web API; for tests and proxies
    parameter_cache_seconds: int = Field(300, ge=0)
    dry_run: bool = False

    # Interruptions: action per NodePool name; pools not listed get `default_interruption_action`.
    default_interruption_action: InterruptionAction = "alert"
    interruption_actions: dict[str, InterruptionAction] = Field(default_factory=dict)
    # NodePools (or "(node group)") whose action also applies to rebalance recommendations; none by default.
    interruption_rebalance_pools: list[str] = Field(default_factory=list)
    # Scheduled digests (chalice_app/digests), off by default: Karpenter's own disruptions of the last
    # UTC day, daily; the most reclaimed spot types and zones, weekly; from `digest_hour` in `digest_timezone`
    # (default: `default_timezone`).
    karpenter_digest: bool = False
    spot_digest: bool = False
    digest_hour: int = Field(18, ge=0, le=23)
    digest_timezone: str | None = None
    spot_digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    spot_digest_weeks: int = Field(4, ge=1, le=17)  # spot# counters live 120 days

    # Off-hours defaults, used when neither the function nor its namespace says otherwise.
    default_uptime: str = "always"
    default_downtime: str = "never"
    default_timezone: str = "UTC"
    default_holidays: str | None = None
    offhours_max_changes: int = Field(500, ge=1)
    offhours_grace_minutes: int = Field(15, ge=0)
    # No restore above this (nor above a function's com.openfaas.scale.max): the stored count is not trusted blindly
    offhours_restore_cap: int = Field(1000, ge=1, le=10_000)
    offhours_nodepools: list[str] = Field(default_factory=list)
    # Warm headroom per NodePool: {"pool": "<time spec>: <cpu> vCPU, <memory>"}; a NodePool annotation wins.
    headroom: dict[str, str] = Field(default_factory=dict)
    # What the cluster's OpenFaaS can hold at zero (chalice_app/offhours/editions.py); unset: detected.
    openfaas_namespace: str = "openfaas"
    openfaas_edition: Literal["ce", "standard"] | None = None
    openfaas_maintain_minimum_replicas: bool | None = None
    # Night wake-ups: parked again after this long without invocations (the hold applies without metrics).
    offhours_idle_minutes: int = Field(30, ge=5, le=24 * 60)
    offhours_hold_minutes: int = Field(60, ge=5, le=24 * 60)
    # Where the gateway's metrics are read through the Kubernetes API service proxy: <namespace>/<service>:<port>
    offhours_metrics_service: str = Field("openfaas/prometheus:9090", pattern=r"^[a-z0-9-]+/[a-z0-9-]+(:[a-z0-9-]+)?$")
    # Woken functions on parked NodePools get this much limit while they run (Karpenter quantity strings).
    offhours_night_allowance_cpu: str = Field("2", pattern=r"^[0-9]+(\.[0-9]+)?m?$")
    # Opt-in: at most this many empty NodeClaims of parked NodePools deleted per run (offhours/reaper.py); 0: off.
    offhours_delete_empty_nodeclaims: int = Field(0, ge=0, le=100)

    # Budget
    budget_parameter: str | None = Field(None, pattern=r"^/")

    # Slack actions (the HTTP route) and savings; parameters default to chalice_app.naming's per stage.
    slack_signing_secret_parameter: str | None = Field(None, pattern=r"^/")
    slack_allow_list_parameter: str | None = Field(None, pattern=r"^/")
    slack_actions_per_user: int = Field(20, ge=1, le=1000, description="actions per user per 10 minutes")
    offhours_keep_hours: int = Field(3, ge=1, le=12, description="'Keep up' button: end of the working day + N h")
    savings_estimator: Literal["cheapest", "median", "mix"] = "median"

    @field_validator("function_namespaces", "offhours_nodepools", "interruption_rebalance_pools", mode="before")
    @classmethod
    def _comma_list(cls, value):
        # Accept "a,b" as well as a JSON list, since Chalice stage variables are plain strings.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _zone(cls, value):
        if value is not None:
            try:
                ZoneInfo(value)
            except (ValueError, ZoneInfoNotFoundError, OSError):  # OSError: a tzdata folder such as "America"
                raise ValueError(f"not an IANA time zone: {value!r}") from None
        return value

    @field_validator("interruption_actions", "headroom", mode="before")
    @classmethod
    def _json_object(cls, value):
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value


def _describe(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    variable = ENV_PREFIX + field.upper()
    shown = error.get("input")
    got = "" if error["type"] == "missing" else f" (got {shown!r})"
    return f"{variable}: {error['msg']}{got}"


def setting_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`COSTGUARD_<FIELD>` variables of `environ` (default: os.environ) as field → raw value; AWS_REGION stands in
    for an unset COSTGUARD_REGION."""
    source = os.environ if environ is None else environ
    values = {
        key[len(ENV_PREFIX):].lower(): value for key, value in source.items() if key.startswith(ENV_PREFIX)
    }
    if "region" not in values and "AWS_REGION" in source:
        values["region"] = source["AWS_REGION"]
    return values


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: os.environ); ConfigError lists every bad variable."""
    values = setting_values(environ)
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once per Lambda container."""
    return load_settings()
