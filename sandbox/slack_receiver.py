"""A loopback stand-in for Slack: incoming webhooks and `chat.postMessage`, with Slack's limits and errors.

It records every accepted message, rejects what Slack rejects (sandbox.block_kit: 400 `invalid_blocks`,
`no_text`) and answers 429 + Retry-After past one message per second per webhook or channel, so the notifier's
retries are exercised for real. Faults (500 n times) can be injected.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.block_kit import block_kit_problems
from sandbox.service import Service

DEFAULT_BOT_TOKEN = "xoxb-sandbox-token"
RESPONSE_URL_USES = 5  # "up to 5 times within 30 minutes" (https://api.slack.com/interactivity/handling#message_responses)


@dataclass(frozen=True)
class ReceivedMessage:
    via: str  # "webhook" or "api"
    target: str  # webhook name or channel
    payload: dict
    received_at: float  # time.time() on arrival
    ts: str | None = None  # Web API only: the message's timestamp id
    thread_ts: str | None = None

    @property
    def text(self) -> str:
        return self.payload.get("text", "")


class RateLimiter:
    """One message per `interval` seconds per key; `admit` returns 0 or the seconds to wait (Retry-After)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}

    def admit(self, key: str) -> int:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return max(1, math.ceil(self.interval - (now - last)))
        self._last[key] = now
        return 0


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # request lines would print webhook secrets
        pass


def _webhook_path(name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return f"/services/TSANDBOX0/B{digest[:10]}/{digest[10:34].lower()}"


class SlackReceiver(Service):
    def __init__(self, bot_token: str = DEFAULT_BOT_TOKEN, min_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.bot_token = bot_token
        self._limiter = RateLimiter(min_interval, clock)
        self._lock = threading.Lock()
        self._webhooks: dict[str, str] = {}  # path -> name
        self._messages: list[ReceivedMessage] = []
        self._rejections: list[tuple[str, str]] = []
        self._faults: list[int] = []  # statuses to answer next, in order
        self._ts_counter = itertools.count(1)
        self.rate_limited_count = 0
        self.usergroups: dict[str, list[str]] = {}  # usergroups.users.list answers: group id -> user ids
        self._response_urls: dict[str, int] = {}  # response_url path -> uses left (see sandbox.slack_user)
        self._server = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> "SlackReceiver":
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Slack receiver is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_base_url(self) -> str:
        """For slack_sdk `WebClient(base_url=...)`."""
        return self.url + "/api/"

    def webhook_url(self, name: str = "costguard") -> str:
        path = _webhook_path(name)
        with self._lock:
            self._webhooks[path] = name
        return self.url + path

    # --- what arrived ----------------------------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def messages_for(self, target: str) -> list[ReceivedMessage]:
        return [message for message in self.messages if message.target == target]

    @property
    def rejections(self) -> list[tuple[str, str]]:
        """(target, error) for every message refused as invalid."""
        with self._lock:
            return list(self._rejections)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._rejections.clear()
            self._faults.clear()
            self.rate_limited_count = 0

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` requests (any endpoint) with `status` before handling them."""
        with self._lock:
            self._faults.extend([status] * times)

    # --- HTTP ------------------------------------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        with self._lock:
            if self._faults:
                status = self._faults.pop(0)
                return Response("internal_error", status=status)
        if request.method != "POST":
            return Response("method_not_allowed", status=405)
        if request.path.startswith("/services/"):
            return self._webhook(request)
        if request.path == "/api/chat.postMessage":
            return self._post_message(request)
        if request.path == "/api/usergroups.users.list":
            return self._usergroup_users(request)
        if request.path.startswith("/actions/"):
            return self._response_url_post(request)
        return Response("no_service", status=404)

    def _rate_limited(self, key: str) -> int:
        with self._lock:
            wait = self._limiter.admit(key)
            if wait:
                self.rate_limited_count += 1
            return wait

    def _reject(self, target: str, error: str) -> None:
        with self._lock:
            self._rejections.append((target, error))

    def _webhook(self, request: Request) -> Response:
        with self._lock:
            name = self._webhooks.get(request.path)
        if name is None:
            return Response("no_service", status=404)
        try:
            payload = json.loads(request.get_data(as_text=True))
        except ValueError:
            self._reject(name, "invalid_payload")
            return Response("invalid_payload", status=400)
        problems = block_kit_problems(payload) if isinstance(payload, dict) else ["invalid_payload"]
        if problems:
            self._reject(name, "; ".join(problems))
            return Response(webhook_error(problems[0]), status=400)
        wait = self._rate_limited("webhook:" + name)
        if wait:
            return Response("rate_limited", status=429, headers={"Retry-After": str(wait)})
        with self._lock:  # Slack gives webhook messages a ts too; users' clicks carry it as container.message_ts
            self._messages.append(ReceivedMessage("webhook", name, payload, time.time(),
                                                  f"{int(time.time())}.{next(self._ts_counter):06d}"))
        return Response("ok", status=200, content_type="text/html")

    # --- interactivity: response_url and user groups (https://api.slack.com/interactivity/handling) -------------
    def response_url(self) -> str:
        """A new response_url as Slack puts in an interaction payload: usable 5 times (within 30 minutes)."""
        token = hashlib.sha256(str(next(self._ts_counter)).encode()).hexdigest()[:24]
        path = f"/actions/TSANDBOX0/{next(self._ts_counter)}/{token}"
        with self._lock:
            self._response_urls[path] = RESPONSE_URL_USES
        return self.url + path

    def _response_url_post(self, request: Request) -> Response:
        with self._lock:
            left = self._response_urls.get(request.path)
            if left is None:
                return Response("expired_url", status=404)
            if left == 0:
                return Response("used_url", status=404)
            self._response_urls[request.path] = left - 1
        try:
            payload = json.loads(request.get_data(as_text=True))
        except ValueError:
            return Response("invalid_payload", status=400)
        problems = block_kit_problems(payload) if isinstance(payload, dict) else ["invalid_payload"]
        if problems:
            self._reject("response_url", "; ".join(problems))
            return Response(problems[0].split(":")[0], status=400)
        with self._lock:
            self._messages.append(ReceivedMessage("response_url", "response_url", payload, time.time(),
                                                  f"{int(time.time())}.{next(self._ts_counter):06d}",
                                                  payload.get("thread_ts")))
        return Response("ok", status=200, content_type="text/html")

    def _usergroup_users(self, request: Request) -> Response:
        """usergroups.users.list (https://api.slack.com/methods/usergroups.users.list): the group's user ids."""
        if request.headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            return _api_answer({"ok": False, "error": "invalid_auth"})
        group = request.values.get("usergroup") or (request.get_json(silent=True) or {}).get("usergroup")
        with self._lock:
            users = self.usergroups.get(group)
        if users is None:
            return _api_answer({"ok": False, "error": "no_such_subteam"})
        return _api_answer({"ok": True, "users": list(users)})

    def _post_message(self, request: Request) -> Response:
        if request.headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            return _api_answer({"ok": False, "error": "invalid_auth"})
        if request.is_json:
            payload = request.get_json(silent=True) or {}
        else:
            payload = request.form.to_dict()
            if isinstance(payload.get("blocks"), str):  # form-encoded bodies carry blocks as JSON
                payload["blocks"] = json.loads(payload["blocks"])
        channel = payload.get("channel")
        if not channel:
            return _api_answer({"ok": False, "error": "channel_not_found"})
        problems = block_kit_problems(payload)
        if problems:
            self._reject(channel, "; ".join(problems))
            return _api_answer({"ok": False, "error": problems[0].split(":")[0], "errors": problems})
        wait = self._rate_limited("channel:" + channel)
        if wait:
            return _api_answer({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(wait)})
        ts = f"{int(time.time())}.{next(self._ts_counter):06d}"
        thread_ts = payload.get("thread_ts")
        with self._lock:
            self._messages.append(ReceivedMessage("api", channel, payload, time.time(), ts, thread_ts))
        message = {"type": "message", "text": payload.get("text", ""), "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return _api_answer({"ok": True, "channel": channel, "ts": ts, "message": message})


def webhook_error(problem: str) -> str:
    """The plain-text body of an incoming webhook's 400. Webhooks answer block problems with a bare
    `invalid_blocks` and no detail (Slack in slackapi/java-slack-sdk#1017; "400 Bad Request with body
    invalid_blocks" in sourcegraph/sourcegraph-public-snapshot#49979); no `msg_blocks_too_long` is documented for
    webhooks, so the twin refuses an over-long message there as `invalid_blocks` too."""
    code = problem.split(":")[0]
    return "invalid_blocks" if code == "msg_blocks_too_long" else code


def _api_answer(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
