"""What a Slack request asks for, parsed and validated (pure): slash commands and button clicks → ActionRequest.

Slack's two request shapes (both `application/x-www-form-urlencoded`):
- a slash command sends the fields `command`, `text`, `user_id`, `user_name`, `channel_id`, `channel_name`,
  `team_id`, `response_url`, `trigger_id` (https://api.slack.com/interactivity/slash-commands#app_command_handling);
- a button click sends one field, `payload`, holding JSON of type `block_actions` with `user`, `channel`,
  `container.message_ts`, `response_url` and `actions[].value`
  (https://api.slack.com/reference/interaction-payloads/block-actions).
Everything in them is untrusted: names must be Kubernetes names, durations are bounded, sizes are capped, and one
bad field is one clear InvalidRequest (HTTP 400) naming it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from chalice_app.errors import CostguardError

MAX_BODY_BYTES = 16_384
MAX_TEXT = 200
MAX_VALUE = 500
MAX_DURATION = timedelta(hours=24)
ACTION_PREFIX = "costguard:"
SLASH_COMMAND = "/costguard"
# RFC 1123 label, as Kubernetes validates namespace names and OpenFaaS (faas-netes) function names.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,32}$")
_DURATION = re.compile(r"^(?:(?P<hours>\d{1,4})h)?(?:(?P<minutes>\d{1,5})m)?$")
_DAYS = re.compile(r"^\d{1,4}d$")
VERBS = ("keep", "keep-namespace", "wake", "status", "help")
# Angle brackets are escaped: Slack reads <...> as a link or mention even inside code spans.
USAGE = ("Usage: `/costguard keep &lt;function&gt; &lt;duration&gt;` (e.g. `keep sleep 3h`, at most 24h), "
         "`/costguard wake &lt;function&gt;`, `/costguard status`. A function may be given as "
         "`namespace/function`.")


class InvalidRequest(CostguardError):
    """A request costguard will not act on; the message names the field and is safe to show in Slack."""


@dataclass(frozen=True)
class Requester:
    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    response_url: str | None
    thread_ts: str | None = None  # the clicked message, so the answer goes into its thread


@dataclass(frozen=True)
class ActionRequest:
    verb: str  # one of VERBS
    requester: Requester
    source: str  # "slash" or "button"
    namespace: str | None = None
    function: str | None = None
    duration: timedelta | None = None  # slash command: relative to now
    until: datetime | None = None  # button: the absolute time shown on it

    @property
    def target(self) -> str:
        if self.function:
            return f"{self.namespace}/{self.function}" if self.namespace else self.function
        return self.namespace or "-"


def kubernetes_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidRequest(f"{what} must be a Kubernetes name (lower-case letters, digits and '-', at most "
                             f"63 characters)")
    return value


def parse_duration(text: str) -> timedelta:
    """`3h`, `90m`, `1h30m`: more than zero and at most 24 hours."""
    text = text.strip().lower()
    if _DAYS.match(text):
        raise InvalidRequest(f"duration {text}: at most 24h (days are not accepted)")
    match = _DURATION.match(text)
    if not text or not match:
        raise InvalidRequest("duration must look like 3h, 90m or 1h30m")
    duration = timedelta(hours=int(match["hours"] or 0), minutes=int(match["minutes"] or 0))
    if duration <= timedelta(0) or duration > MAX_DURATION:
        raise InvalidRequest(f"duration {text}: must be more than 0 and at most 24h")
    return duration


def _slack_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _SLACK_ID.match(value):
        raise InvalidRequest(f"{what} is missing or malformed")
    return value


def _short(value: object, limit: int = 80) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _function_ref(token: str, default_namespace: str) -> tuple[str, str]:
    namespace, _, name = token.rpartition("/")
    return kubernetes_name(namespace or default_namespace, "namespace"), kubernetes_name(name, "function name")


def form_fields(body: bytes) -> dict[str, str]:
    """The form body as single values; a repeated or oversized field is refused."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidRequest("request body too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("request body is not a form") from None
    if any(len(values) != 1 for values in fields.values()):
        raise InvalidRequest("a form field is repeated")
    return {key: values[0] for key, values in fields.items()}


def parse_slash(fields: dict[str, str], default_namespace: str) -> ActionRequest:
    if fields.get("command") != SLASH_COMMAND:
        raise InvalidRequest(f"unknown command; this endpoint serves {SLASH_COMMAND}")
    text = fields.get("text", "")
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"command text longer than {MAX_TEXT} characters")
    requester = Requester(_slack_id(fields.get("user_id"), "user_id"), _short(fields.get("user_name")),
                          _slack_id(fields.get("channel_id"), "channel_id"), _short(fields.get("channel_name")),
                          fields.get("response_url") or None)
    words = text.split()
    verb = words[0].lower() if words else "help"
    if verb == "status" and len(words) == 1:
        return ActionRequest("status", requester, "slash")
    if verb == "wake" and len(words) == 2:
        namespace, name = _function_ref(words[1], default_namespace)
        return ActionRequest("wake", requester, "slash", namespace, name)
    if verb == "keep" and len(words) == 3:
        namespace, name = _function_ref(words[1], default_namespace)
        return ActionRequest("keep", requester, "slash", namespace, name, duration=parse_duration(words[2]))
    if verb == "help":
        return ActionRequest("help", requester, "slash")
    raise InvalidRequest(f"that is not a costguard command. {USAGE}")


def button_value(verb: str, namespace: str, function: str | None = None, until: datetime | None = None) -> str:
    """What a costguard button carries (the inverse of the parsing in parse_interaction)."""
    value = {"verb": verb, "ns": namespace}
    if function:
        value["fn"] = function
    if until:
        value["until"] = until.isoformat(timespec="minutes")
    return json.dumps(value, separators=(",", ":"))


def parse_interaction(payload_text: str) -> ActionRequest:
    if len(payload_text) > MAX_BODY_BYTES:
        raise InvalidRequest("payload too large")
    try:
        payload = json.loads(payload_text)
    except ValueError:
        raise InvalidRequest("payload is not JSON") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise InvalidRequest("only block_actions interactions are served")
    actions = payload.get("actions")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise InvalidRequest("expected exactly one action")
    action = actions[0]
    if not str(action.get("action_id", "")).startswith(ACTION_PREFIX):
        raise InvalidRequest("not a costguard button")
    user, channel = payload.get("user") or {}, payload.get("channel") or {}
    container = payload.get("container") or {}
    if not all(isinstance(part, dict) for part in (user, channel, container)):
        raise InvalidRequest("user, channel or container is malformed")
    message_ts = container.get("message_ts")
    requester = Requester(_slack_id(user.get("id"), "user.id"), _short(user.get("username") or user.get("name")),
                          _slack_id(channel.get("id"), "channel.id"), _short(channel.get("name")),
                          payload.get("response_url") or None,
                          message_ts if isinstance(message_ts, str) and len(message_ts) <= 32 else None)
    raw = action.get("value")
    if not isinstance(raw, str) or len(raw) > MAX_VALUE:
        raise InvalidRequest("button value is missing or too long")
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidRequest("button value is not JSON") from None
    if not isinstance(value, dict) or value.get("verb") not in ("keep", "keep-namespace", "wake"):
        raise InvalidRequest("button value names no known action")
    namespace = kubernetes_name(value.get("ns"), "namespace")
    function = None if value["verb"] == "keep-namespace" else kubernetes_name(value.get("fn"), "function name")
    until = None
    if value.get("until") is not None:
        try:
            until = datetime.fromisoformat(str(value["until"])[:40])
        except ValueError:
            raise InvalidRequest("button time is not an ISO 8601 time") from None
        if until.tzinfo is None:
            raise InvalidRequest("button time has no time zone")
    return ActionRequest(value["verb"], requester, "button", namespace, function, until=until)


def parse_request(body: bytes, default_namespace: str) -> ActionRequest:
    """A slash command or a button click, from the raw (already verified) form body."""
    fields = form_fields(body)
    if "payload" in fields:
        return parse_interaction(fields["payload"])
    return parse_slash(fields, default_namespace)
