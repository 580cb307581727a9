"""Slack's side of interactivity, on loopback: a person clicking costguard's buttons or typing `/costguard`.

Slack sends both as `application/x-www-form-urlencoded` POSTs to the app's Request URL, signed with the app's
signing secret (https://api.slack.com/authentication/verifying-requests-from-slack):
    X-Slack-Request-Timestamp: <unix seconds>
    X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">
- a button click is one field `payload` holding a `block_actions` JSON document: `type`, `user` {id, username},
  `team`, `channel` {id, name}, `container` {type: message, message_ts, channel_id}, `message`, `response_url`,
  `actions` [{type: button, action_id, block_id, value, text, action_ts}]
  (https://api.slack.com/reference/interaction-payloads/block-actions);
- a slash command is the fields `token`, `team_id`, `team_domain`, `channel_id`, `channel_name`, `user_id`,
  `user_name`, `command`, `text`, `api_app_id`, `response_url`, `trigger_id`
  (https://api.slack.com/interactivity/slash-commands#app_command_handling).
The app's route runs in Chalice's own local API Gateway emulation (chalice.local) on 127.0.0.1, port 0.

    with Sandbox() as sb, sb.activate(), serve_slack_actions(sb, allowed=["U0ALEX0001"]) as slack:
        status, body = slack.slash("keep sleep 3h")
        status, body = slack.click(sb.slack.messages[-1], "Keep sleep up until")
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlencode

from chalice.local import ChaliceRequestHandler, LocalDevServer
from slack_sdk.signature import SignatureVerifier

from chalice_app import naming
from sandbox.slack_receiver import ReceivedMessage, SlackReceiver

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the shape of Slack's: 32 characters
ROUTE = "/slack/actions"
TEAM = {"id": "T0SANDBOX0", "domain": "sandbox"}
APP_ID = "A0COSTGUARD"


@dataclass(frozen=True)
class SlackPerson:
    user_id: str = "U0ALEX0001"
    user_name: str = "alex"
    channel_id: str = "C0OPS00001"
    channel_name: str = "ops"


class _QuietHandler(ChaliceRequestHandler):
    sandbox = None  # set per server: the route then runs as the API handler Lambda's own role
    # Held from before the answer is written until the identity is the caller's again: the answer reaches the
    # caller before `as_lambda` has restored the process's credentials, so the caller waits on it (SlackUser.post).
    busy: threading.Lock = threading.Lock()

    def log_message(self, *args) -> None:  # the demo's output stays readable
        pass

    def do_POST(self) -> None:  # the route's only method (Chalice's handler maps every method to one function)
        # The route is its own Lambda (Chalice's api_handler) with its own role and Kubernetes group; the caller
        # waits for the answer, so the process's identity is the route's for the request's duration.
        with self.busy, self.sandbox.as_lambda(naming.API_HANDLER):
            self._generic_handle()


class SlackUser:
    """Signs and sends what Slack would send; `clock` gives the request timestamps (the sandbox's time)."""

    def __init__(self, route_url: str, receiver: SlackReceiver, secret: str = SIGNING_SECRET,
                 clock: Callable[[], float] = time.time, route_done: threading.Lock | None = None):
        self.route_url, self.receiver, self.secret, self.clock = route_url, receiver, secret, clock
        self.route_done = route_done or threading.Lock()  # the route's `busy`: free once its request is over

    def signed_headers(self, body: str, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.secret).generate_signature(timestamp=stamp, body=body)
        return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature}

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, dict]:
        request = urllib.request.Request(self.route_url, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            answer = error.code, json.loads(error.read() or b"{}")
        with self.route_done:  # the route's thread is out of its Lambda identity: the caller's is back
            return answer

    def slash_body(self, text: str, person: SlackPerson = SlackPerson()) -> str:
        return urlencode({"token": "deprecated-verification-token", "team_id": TEAM["id"],
                          "team_domain": TEAM["domain"], "channel_id": person.channel_id,
                          "channel_name": person.channel_name, "user_id": person.user_id,
                          "user_name": person.user_name, "command": "/costguard", "text": text,
                          "api_app_id": APP_ID, "response_url": self.receiver.response_url(),
                          "trigger_id": f"{int(self.clock())}.1.sandbox"})

    def click_body(self, message: ReceivedMessage, button_text: str, person: SlackPerson = SlackPerson()) -> str:
        button, block_id = find_button(message, button_text)
        now = f"{self.clock():.6f}"
        payload = {
            "type": "block_actions", "api_app_id": APP_ID, "token": "deprecated-verification-token",
            "team": TEAM, "user": {"id": person.user_id, "username": person.user_name, "name": person.user_name,
                                   "team_id": TEAM["id"]},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": person.channel_id,
                          "is_ephemeral": False},
            "trigger_id": f"{int(self.clock())}.2.sandbox", "channel": {"id": person.channel_id,
                                                                        "name": person.channel_name},
            "message": {"type": "message", "ts": message.ts, "text": message.text,
                        "blocks": message.payload.get("blocks", [])},
            "response_url": self.receiver.response_url(),
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": block_id,
                         "value": button.get("value", ""), "text": button["text"], "action_ts": now}],
        }
        return urlencode({"payload": json.dumps(payload)})

    def slash(self, text: str, person: SlackPerson = SlackPerson()) -> tuple[int, dict]:
        body = self.slash_body(text, person)
        return self.post(body, self.signed_headers(body))

    def click(self, message: ReceivedMessage, button_text: str, person: SlackPerson = SlackPerson()) -> tuple[int, dict]:
        body = self.click_body(message, button_text, person)
        return self.post(body, self.signed_headers(body))


def find_button(message: ReceivedMessage, text_prefix: str) -> tuple[dict, str]:
    for block in message.payload.get("blocks", []):
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"].startswith(text_prefix):
                return element, block.get("block_id", "")
    raise LookupError(f"no button starting with {text_prefix!r} in the message")


def _chalice_app_module():
    """The project's app.py (the Chalice entry point), wherever the sandbox was started from."""
    import importlib
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("app")


def configure(sb, allowed_users: list[str], usergroups: list[str] = (), namespaces: dict | None = None) -> None:
    """Put the signing secret and the allow-list where `costguard bootstrap` puts them (as the sandbox admin)."""
    ssm = sb.session().client("ssm")
    ssm.put_parameter(Name=naming.slack_signing_secret_parameter(sb.stage), Value=SIGNING_SECRET,
                      Type="SecureString", Overwrite=True)
    document = {"users": list(allowed_users), "usergroups": list(usergroups), "namespaces": namespaces or {}}
    ssm.put_parameter(Name=naming.slack_allow_list_parameter(sb.stage), Value=json.dumps(document), Type="String",
                      Overwrite=True)


@contextlib.contextmanager
def serve_slack_actions(sb, allowed: list[str] = ("U0ALEX0001",), clock: Callable[[], float] = time.time,
                        usergroups: list[str] = ()) -> Iterator[SlackUser]:
    """The app's HTTP route on 127.0.0.1 (chalice.local), and a SlackUser pointed at it. Call inside
    `sb.activate()`; the route's clock is `clock` for as long as this runs."""
    from datetime import datetime, timezone

    from chalice.config import Config

    from chalice_app.slackapp import route

    chalice_entry = _chalice_app_module()

    configure(sb, list(allowed), list(usergroups))
    previous_clock = route.clock
    route.clock = lambda: datetime.fromtimestamp(clock(), timezone.utc)
    route.reset()
    handler = type("RouteHandler", (_QuietHandler,), {"sandbox": sb, "busy": threading.Lock()})
    server = LocalDevServer(chalice_entry.app, Config.create(chalice_stage=sb.stage), "127.0.0.1", 0,
                            handler_cls=handler)
    thread = threading.Thread(target=server.server.serve_forever, name="chalice-local", daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server.server_port}{ROUTE}"
        yield SlackUser(url, sb.slack, clock=clock, route_done=handler.busy)
    finally:
        server.shutdown()
        server.server.server_close()
        route.clock = previous_clock
        route.reset()
