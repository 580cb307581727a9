import json
import urllib.error
import urllib.request

import pytest

from sandbox.slack_receiver import RateLimiter, SlackReceiver, block_kit_problems


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_block_kit_limits():
    assert block_kit_problems({"text": "ok", "blocks": [{"type": "divider"}] * 50}) == []
    assert block_kit_problems({"text": "x", "blocks": [{"type": "divider"}] * 51})[0].startswith("invalid_blocks")
    assert block_kit_problems({"blocks": []}) == ["no_text"]
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}
    assert "3001 chars" in block_kit_problems({"text": "x", "blocks": [long_section]})[0]
    long_header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert "header 0" in block_kit_problems({"text": "x", "blocks": [long_header]})[0]
    mrkdwn_header = {"type": "header", "text": {"type": "mrkdwn", "text": "h"}}
    assert block_kit_problems({"text": "x", "blocks": [mrkdwn_header]}) == [
        "invalid_blocks: header 0 must be plain_text"]


def test_rate_limiter_answers_retry_after_within_the_interval():
    now = [100.0]
    limiter = RateLimiter(1.0, clock=lambda: now[0])
    assert limiter.admit("a") == 0
    now[0] = 100.2
    assert limiter.admit("a") == 1
    assert limiter.admit("b") == 0  # per key
    now[0] = 101.0
    assert limiter.admit("a") == 0


@pytest.fixture(scope="module")
def receiver():
    with SlackReceiver() as running:
        yield running


def test_webhook_records_accepted_messages_and_rejects_invalid_ones(receiver):
    receiver.clear()
    url = receiver.webhook_url("alerts")
    assert post(url, {"text": "hello", "blocks": [{"type": "divider"}]})[:2] == (200, "ok")
    status, body, _ = post(url, {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text",
                                                                                       "text": "h" * 200}}]})
    assert (status, body) == (400, "invalid_blocks")
    assert [(m.via, m.target, m.text) for m in receiver.messages] == [("webhook", "alerts", "hello")]
    assert receiver.rejections[0][0] == "alerts"


def test_second_message_within_a_second_gets_429_with_retry_after(receiver):
    receiver.clear()
    url = receiver.webhook_url("burst")
    assert post(url, {"text": "one"})[0] == 200
    status, body, headers = post(url, {"text": "two"})
    assert (status, body, headers["Retry-After"]) == (429, "rate_limited", "1")
    assert receiver.rate_limited_count == 1
    assert [m.text for m in receiver.messages] == ["one"]


def test_unknown_webhook_and_injected_faults(receiver):
    receiver.clear()
    assert post(receiver.url + "/services/T/B/nope", {"text": "x"})[:2] == (404, "no_service")
    receiver.fail_next(1, status=503)
    assert post(receiver.webhook_url("faulty"), {"text": "x"})[0] == 503
    assert post(receiver.webhook_url("faulty"), {"text": "x"})[0] == 200


def test_web_api_checks_the_token_and_returns_timestamps(receiver):
    receiver.clear()
    api = receiver.api_base_url + "chat.postMessage"
    status, body, _ = post(api, {"channel": "C1", "text": "x"}, {"Authorization": "Bearer wrong"})
    assert (status, json.loads(body)["error"]) == (200, "invalid_auth")
    auth = {"Authorization": f"Bearer {receiver.bot_token}"}
    root = json.loads(post(api, {"channel": "C1", "text": "root"}, auth)[1])
    assert root["ok"] and root["channel"] == "C1"
    status, body, headers = post(api, {"channel": "C1", "text": "too soon", "thread_ts": root["ts"]}, auth)
    assert status == 429 and json.loads(body)["error"] == "ratelimited" and headers["Retry-After"] == "1"
    assert json.loads(post(api, {"channel": "C2", "text": "x"}, auth)[1])["ok"]  # other channel, own limit
    assert [(m.target, m.ts is not None) for m in receiver.messages] == [("C1", True), ("C2", True)]
