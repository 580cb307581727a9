"""The Slack actions route (API Gateway → Lambda): verify, refuse or act, audit, answer — all within Slack's 3 s.

Order of checks, each failing closed with nothing changed:
 1. signature and timestamp (slack_sdk SignatureVerifier: HMAC-SHA256 over `v0:<timestamp>:<body>` with the
    signing secret from SSM; timestamp within 5 minutes) → 401;
 2. replay: the signature must be new (conditional put in the stage table) → 401;
 3. parsing and validation (Kubernetes names, durations ≤ 24 h, configured namespaces only) → 400;
 4. per-user rate limit → 429;
 5. the allow-list (users, user groups, per namespace) → 403 with a polite answer.
Then one annotation patch (never replicas), an audit entry (stage table) and the answer: the HTTP body for a slash
command, and a threaded reply through the click's `response_url` for a button.

Why synchronous (no async self-invoke): the work after verification is one Kubernetes get + one patch and two
DynamoDB writes, tens of milliseconds warm; an async hop would add a Lambda, an IAM grant to invoke it and a second
place for errors, to save time the route does not need (see the README for the measured figures).
The signing secret, the signature and the response_url (a capability URL) are never logged.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from kubernetes.client.exceptions import ApiException

from chalice_app import naming
from chalice_app.config import Settings
from chalice_app.errors import ConfigError
from chalice_app.observability import logger
from chalice_app.offhours.policy import Defaults
from chalice_app.slack.text import code, escape
from chalice_app.ssm import read_secret
from chalice_app.slackapp.access import AllowList, AllowListError, may_act, parse_allow_list
from chalice_app.slackapp.commands import USAGE, ActionRequest, InvalidRequest, parse_request
from chalice_app.slackapp.decide import Change, plan_function_change, plan_namespace_change
from chalice_app.slackapp.cluster import ActionsCluster, NotAFunction
from chalice_app.slackapp.status import status_text
from chalice_app.slackapp.store import SlackStore

if TYPE_CHECKING:
    from slack_sdk.signature import SignatureVerifier

SLACK_ORIGINS = ("https://hooks.slack.com/",)
RESPONSE_TIMEOUT_SECONDS = 2
CONFLICT_ATTEMPTS = 2
GROUP_CACHE_SECONDS = 300  # user-group members, per container: a lookup per click would eat the 3 s
_GROUP_CACHE: dict[str, tuple[float, set[str]]] = {}


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: dict


def _answer(status: int, text: str, visible: bool = False) -> HttpAnswer:
    return HttpAnswer(status, {"response_type": "in_channel" if visible else "ephemeral", "text": text})


def _verifier(secret: str, now: datetime) -> SignatureVerifier:
    # slack_sdk on the first request, not at import: its package loads the Web API and webhook clients (and asyncio)
    # with any of its modules, a third of the route's cold import (benchmarks/bench_cold_start.py).
    from slack_sdk.signature import Clock, SignatureVerifier

    class FixedClock(Clock):
        def now(self) -> float:
            return now.timestamp()

    return SignatureVerifier(secret, clock=FixedClock())


def signature_valid(secret: str, body: bytes, headers: Mapping[str, str], now: datetime) -> bool:
    """Slack's check (slack_sdk): a signature over this body and a timestamp within 5 minutes of now."""
    lowered = {key.lower(): value for key, value in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if not timestamp or not signature or not timestamp.isdigit() or len(signature) > 100:
        return False
    try:
        return _verifier(secret, now).is_valid(body, timestamp, signature)
    except (ValueError, UnicodeDecodeError):
        return False


def response_url_allowed(url: str | None, settings: Settings) -> bool:
    """Only Slack's own hooks host (or the configured Slack API origin, e.g. the sandbox) may be called back."""
    if not url or len(url) > 500:
        return False
    origins = list(SLACK_ORIGINS)
    if settings.slack_api_base_url:
        parts = urlsplit(settings.slack_api_base_url)
        origins.append(f"{parts.scheme}://{parts.netloc}/")
    return any(url.startswith(origin) for origin in origins)


class SlackActions:
    def __init__(self, settings: Settings, store: SlackStore, cluster_factory: Callable[[], ActionsCluster],
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 secret: Callable[[], str] | None = None, allow_list: Callable[[], AllowList] | None = None,
                 groups_of: Callable[[str, set[str]], set[str]] | None = None,
                 respond: Callable[[str, dict], None] | None = None):
        self._settings, self._store, self._cluster_factory, self._clock = settings, store, cluster_factory, clock
        stage = settings.stage
        self._secret = secret or (lambda: read_secret(settings.slack_signing_secret_parameter
                                                  or naming.slack_signing_secret_parameter(stage), settings))
        self._allow_list = allow_list or self._allow_list_from_ssm
        self._groups_of = groups_of or self._groups_from_slack
        self._respond = respond or self._post_response
        self._zone = ZoneInfo(settings.default_timezone)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackActions:
        """The stage's table and cluster (the cluster's client is opened by the first action that needs it)."""
        from chalice_app.kube.client import api_client

        return cls(settings, SlackStore(settings.table_name), lambda: ActionsCluster(api_client(settings)))

    # --- the request ---------------------------------------------------------------------------------------
    def handle(self, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> HttpAnswer:
        started = time.monotonic()
        now = now or self._clock()
        try:
            secret = self._secret()
        except ConfigError as error:
            logger.error("slack route not configured", extra={"problem": str(error)})
            return _answer(503, "costguard's Slack actions are not configured")
        if not signature_valid(secret, body, headers, now):
            logger.warning("slack request refused: bad signature or timestamp")
            return _answer(401, "invalid signature")
        signature = {key.lower(): value for key, value in headers.items()}["x-slack-signature"]
        if not self._store.first_use(signature, now):
            logger.warning("slack request refused: replayed")
            return _answer(401, "replayed request")
        try:
            request = parse_request(body, self._settings.function_namespaces[0])
        except InvalidRequest as error:
            logger.info("slack request invalid", extra={"problem": str(error)})
            return _answer(400, f"costguard cannot do that: {escape(error)}")
        answer = self._authorized(request, now)
        logger.info("slack request", extra={"slack_user": request.requester.user_id, "verb": request.verb,
                                            "target": request.target, "status": answer.status,
                                            "elapsed_ms": round((time.monotonic() - started) * 1000)})
        return answer

    def _authorized(self, request: ActionRequest, now: datetime) -> HttpAnswer:
        who = request.requester
        if request.namespace is not None and request.namespace not in self._settings.function_namespaces:
            return self._reply(request, _answer(400, f"namespace {code(request.namespace)} is not managed by "
                                                     f"costguard"), now, "invalid")
        if not self._store.within_rate(who.user_id, now, self._settings.slack_actions_per_user):
            return self._reply(request, _answer(429, "Too many costguard actions in 10 minutes; please try again "
                                                     "in a few minutes."), now, "rate-limited")
        try:
            allow = self._allow_list()
            groups = self._groups_of(who.user_id, allow.groups()) if allow.groups() else set()
        except (AllowListError, ConfigError) as error:
            logger.error("slack allow-list unusable", extra={"problem": str(error)})
            allow, groups = AllowList(), set()
        if not may_act(allow, who.user_id, groups, request.namespace):
            where = f" in namespace {code(request.namespace)}" if request.namespace else ""
            return self._reply(request, _answer(403, f"Sorry <@{who.user_id}>, you are not on costguard's "
                                                     f"allow-list{where}, so nothing was changed. Ask your "
                                                     f"platform team to add you."), now, "refused")
        if request.verb == "help":
            return _answer(200, USAGE)
        if request.verb == "status":
            allowed = [ns for ns in self._settings.function_namespaces if may_act(allow, who.user_id, groups, ns)]
            return _answer(200, status_text(self._cluster_factory(), allowed, now, self._zone,
                                            lambda: self._store.offhours_view(allowed)))
        try:
            change = self._apply(request, now)
        except InvalidRequest as error:
            return self._reply(request, _answer(400, f"costguard cannot do that: {escape(error)}"), now, "invalid")
        except NotAFunction:
            return self._reply(request, _answer(400, f"no OpenFaaS function {code(request.target)}"), now, "invalid")
        except ApiException as error:
            logger.error("slack action failed", extra={"target": request.target, "kubernetes_status": error.status})
            return self._reply(request, _answer(502, f"Kubernetes refused the change ({error.status}); nothing "
                                                     f"was changed"), now, "failed")
        source = f" in <#{who.channel_id}>" if who.channel_id.startswith("C") else ""
        text = f"<@{who.user_id}>{source}: {change.text}"
        return self._reply(request, _answer(200, text, visible=True), now, "done" if change.writes else "no-op",
                           change)

    def _apply(self, request: ActionRequest, now: datetime) -> Change:
        cluster = self._cluster_factory()
        defaults = Defaults.from_settings(self._settings)
        namespace, name = request.namespace, request.function
        if namespace is None:
            raise InvalidRequest("name a namespace")
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            namespace_annotations = cluster.namespace_annotations([namespace])[namespace]
            if request.verb == "keep-namespace":
                change = plan_namespace_change(request, namespace_annotations, defaults, now, self._zone)
                if change.patch is not None:
                    cluster.patch_namespace(namespace, change.patch)
                return change
            if name is None:
                raise InvalidRequest("name a function")
            function = cluster.openfaas_function(namespace, name)
            change = plan_function_change(request, function, namespace_annotations, defaults, now, self._zone)
            if change.patch is None:
                return change
            try:
                cluster.patch_function(namespace, name, change.patch)
            except ApiException as error:
                if error.status != 409 or attempt == CONFLICT_ATTEMPTS:
                    raise
                continue
            return self._recorded(change, now)
        raise AssertionError("unreachable")

    def _recorded(self, change: Change, now: datetime) -> Change:
        """The keep into the stage table too: a redeploy replaces the Deployment's annotations (offhours.keeps)."""
        assert change.name is not None and change.until is not None  # a function change always has both
        try:
            self._store.record_keep(change.namespace, change.name, change.until, now)
        except Exception:  # noqa: BLE001 - the annotation holds the keep; only a redeploy tonight would end it
            logger.exception("could not record the keep in the stage table")
            return replace(change, text=change.text + " (not recorded in the stage table: a redeploy before then "
                                                      "would end it)")
        return change

    # --- audit and answers ---------------------------------------------------------------------------------
    def _reply(self, request: ActionRequest, answer: HttpAnswer, now: datetime, outcome: str,
               change: Change | None = None) -> HttpAnswer:
        who = request.requester
        entry = {"at": now.isoformat(timespec="seconds"), "user_id": who.user_id, "user_name": who.user_name,
                 "channel_id": who.channel_id, "channel_name": who.channel_name, "verb": request.verb,
                 "target": request.target, "source": request.source, "outcome": outcome,
                 "until": change.until.isoformat(timespec="seconds") if change and change.until else None}
        try:
            self._store.audit(entry, now)
        except Exception:  # noqa: BLE001 - the change is made; a lost audit line is logged with its content
            logger.exception("could not write the audit entry", extra={"audit": entry})
        if request.source == "button" and who.response_url and response_url_allowed(who.response_url, self._settings):
            body = {**answer.body, "replace_original": False}
            if who.thread_ts:
                body["thread_ts"] = who.thread_ts
            self._respond(who.response_url, body)
        return answer

    def _post_response(self, url: str, body: dict) -> None:
        from slack_sdk import WebhookClient

        from chalice_app.slack.retry import SDK_LOGGER

        client = WebhookClient(url, timeout=RESPONSE_TIMEOUT_SECONDS, logger=SDK_LOGGER, retry_handlers=[])
        try:
            response = client.send_dict(body)
            if response.status_code != 200:
                logger.warning("slack response_url refused the answer", extra={"status": response.status_code})
        except Exception as error:  # noqa: BLE001 - the HTTP answer still carries the result; the URL is not logged
            logger.warning("slack response_url unreachable", extra={"error": type(error).__name__})

    def _allow_list_from_ssm(self) -> AllowList:
        name = self._settings.slack_allow_list_parameter or naming.slack_allow_list_parameter(self._settings.stage)
        return parse_allow_list(read_secret(name, self._settings), f"SSM parameter {name}")

    def _groups_from_slack(self, user_id: str, groups: set[str]) -> set[str]:
        """The named user groups this user belongs to (Slack usergroups.users.list, needs the bot token)."""
        if not self._settings.slack_bot_token_parameter:
            logger.warning("allow-list names user groups but no bot token is configured to look them up")
            return set()
        from slack_sdk import WebClient

        from chalice_app.slack.retry import SDK_LOGGER

        client = WebClient(token=read_secret(self._settings.slack_bot_token_parameter, self._settings),
                           base_url=self._settings.slack_api_base_url or WebClient.BASE_URL,
                           timeout=RESPONSE_TIMEOUT_SECONDS, logger=SDK_LOGGER)
        member_of: set[str] = set()
        for group in sorted(groups):
            cached = _GROUP_CACHE.get(group)
            if cached is None or time.monotonic() - cached[0] > GROUP_CACHE_SECONDS:
                try:
                    members: set[str] = set(client.usergroups_users_list(usergroup=group).get("users", []))
                except Exception as error:  # noqa: BLE001 - an unknown group grants nothing
                    logger.warning("slack user group lookup failed", extra={"usergroup": group,
                                                                            "error": type(error).__name__})
                    continue
                cached = _GROUP_CACHE[group] = (time.monotonic(), members)
            if user_id in cached[1]:
                member_of.add(group)
        return member_of
