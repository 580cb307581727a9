import logging

import pytest
from aws_lambda_powertools.utilities import parameters

from chalice_app.config import load_settings
from chalice_app.errors import ConfigError
from chalice_app.slack.bot import BotNotifier
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.notifier import notifier_from_settings
from chalice_app.slack.pacing import Pacer, pause_before_next
from chalice_app.slack.port import LoggingNotifier, SlackDeliveryError
from chalice_app.slack.threads import DynamoThreadStore, thread_for
from chalice_app.slack.webhook import WebhookNotifier
from sandbox.aws import FakeAws, create_stage_table
from sandbox.slack_receiver import SlackReceiver

TABLE = "costguard-slacktest"


@pytest.fixture(scope="module")
def receiver():
    with SlackReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def unlimited():
    """A receiver without the 1 message/s limit, for tests about threading rather than pacing."""
    with SlackReceiver(min_interval=0) as running:
        yield running


@pytest.fixture(scope="module")
def aws():
    with FakeAws() as fake:
        create_stage_table(fake.client("dynamodb"), TABLE)
        yield fake


@pytest.fixture
def aws_env(aws, monkeypatch):
    for key, value in aws.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    parameters.clear_caches()
    yield aws
    parameters.clear_caches()


def settings_for(**values: str):
    return load_settings({"COSTGUARD_CLUSTER_NAME": "openfaas", "COSTGUARD_TABLE_NAME": TABLE, **values})


# --- pure parts ----------------------------------------------------------------------------------------------
def test_pause_before_next_post():
    assert pause_before_next(None, 10.0, 1.0) == 0.0
    assert pause_before_next(10.0, 10.25, 1.0) == pytest.approx(0.75)
    assert pause_before_next(10.0, 12.0, 1.0) == 0.0


def test_pacer_sleeps_only_for_the_same_destination():
    now, slept = [0.0], []
    pacer = Pacer(1.0, clock=lambda: now[0], sleep=slept.append)
    pacer.finished("a")
    now[0] = 0.4
    pacer.wait("a")
    pacer.wait("b")
    assert slept == [pytest.approx(0.6)]


def test_thread_for_takes_the_first_key_with_a_thread():
    known = {"i-2": "111.1", "i-3": "222.2"}
    assert thread_for(("i-1", "i-3", "i-2"), known.get) == "222.2"
    assert thread_for(("i-9",), known.get) is None


# --- webhook -------------------------------------------------------------------------------------------------
def test_webhook_retries_after_429s_and_delivers_all_in_order(receiver):
    receiver.clear()
    notifier = WebhookNotifier(receiver.webhook_url("burst"), pacer=Pacer(0))  # no pacing: provoke 429s
    for number in range(3):
        notifier.send(SlackMessage(f"message {number}"))
    assert [m.text for m in receiver.messages_for("burst")] == ["message 0", "message 1", "message 2"]
    assert receiver.rate_limited_count == 2


def test_pacing_keeps_posts_under_the_webhook_limit(receiver):
    receiver.clear()
    notifier = WebhookNotifier(receiver.webhook_url("paced"), pacer=Pacer(1.0))
    notifier.send(SlackMessage("first"))
    notifier.send(SlackMessage("second"))
    assert [m.text for m in receiver.messages_for("paced")] == ["first", "second"]
    assert receiver.rate_limited_count == 0


def test_webhook_retries_server_errors(receiver):
    receiver.clear()
    receiver.fail_next(2, status=500)
    WebhookNotifier(receiver.webhook_url("flaky")).send(SlackMessage("after two 500s"))
    assert [m.text for m in receiver.messages_for("flaky")] == ["after two 500s"]


def test_exhausted_retries_raise_without_the_url(receiver):
    receiver.clear()
    url = receiver.webhook_url("down")
    receiver.fail_next(3, status=500)
    with pytest.raises(SlackDeliveryError, match="HTTP 500") as raised:
        WebhookNotifier(url).send(SlackMessage("lost"))
    assert url not in str(raised.value) and "/services/" not in str(raised.value)
    assert receiver.messages_for("down") == []


def test_invalid_blocks_are_reported_not_retried(receiver):
    receiver.clear()
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    with pytest.raises(SlackDeliveryError, match="invalid_blocks"):
        WebhookNotifier(receiver.webhook_url("strict")).send(SlackMessage("x", blocks=[too_long]))
    assert len(receiver.rejections) == 1


def test_urls_and_tokens_never_reach_the_logs(receiver, unlimited, capfd):
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    collector = Collect(level=logging.DEBUG)
    root, sdk = logging.getLogger(), logging.getLogger("slack_sdk")
    old_levels = root.level, sdk.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    sdk.setLevel(logging.DEBUG)
    try:
        receiver.clear()
        url = receiver.webhook_url("secret-hook")
        receiver.fail_next(1, status=500)
        notifier = WebhookNotifier(url, pacer=Pacer(0))
        notifier.send(SlackMessage("one"))
        notifier.send(SlackMessage("two"))  # 429, retried
        with pytest.raises(SlackDeliveryError, match="invalid_auth"):
            BotNotifier("xoxb-wrong-token", "C1", base_url=unlimited.api_base_url).send(SlackMessage("x"))
    finally:
        root.removeHandler(collector)
        root.setLevel(old_levels[0])
        sdk.setLevel(old_levels[1])
    output = "\n".join(records) + capfd.readouterr().out + capfd.readouterr().err
    secret_path = url.split("/services/")[1]
    assert receiver.rate_limited_count == 1
    assert "slack message delivered" in output  # the notifier does log, just not the secrets
    assert secret_path not in output and "xoxb-wrong-token" not in output


# --- bot -----------------------------------------------------------------------------------------------------
def test_bot_threads_messages_that_share_a_key(unlimited):
    unlimited.clear()
    bot = BotNotifier(unlimited.bot_token, "C-ALERTS", base_url=unlimited.api_base_url, pacer=Pacer(0))
    root = bot.send(SlackMessage("i-1 will be interrupted", thread_keys=("i-1",)))
    reply = bot.send(SlackMessage("i-1 cordoned", thread_keys=("i-1",)))
    other = bot.send(SlackMessage("i-2 will be interrupted", thread_keys=("i-2",)))
    both = bot.send(SlackMessage("i-2 and i-3 drained", thread_keys=("i-3", "i-2")))
    plain = bot.send(SlackMessage("no key"))
    assert root.thread_ts is None and reply.thread_ts == root.ts
    assert other.thread_ts is None and both.thread_ts == other.ts and plain.thread_ts is None
    assert [m.thread_ts for m in unlimited.messages_for("C-ALERTS")] == [None, root.ts, None, other.ts, None]


def test_threads_survive_a_new_container_through_the_table(unlimited, aws):
    unlimited.clear()
    store = DynamoThreadStore(TABLE, client=aws.client("dynamodb"))
    first = BotNotifier(unlimited.bot_token, "C-OPS", base_url=unlimited.api_base_url, thread_store=store,
                        pacer=Pacer(0))
    root = first.send(SlackMessage("root", thread_keys=("i-0abc",)))
    later = BotNotifier(unlimited.bot_token, "C-OPS", base_url=unlimited.api_base_url,
                        thread_store=DynamoThreadStore(TABLE, client=aws.client("dynamodb")), pacer=Pacer(0))
    assert later.send(SlackMessage("reply", thread_keys=("i-0abc",))).thread_ts == root.ts
    item = aws.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": "thread#i-0abc"}})["Item"]
    assert item["ts"]["S"] == root.ts and int(item["expiration"]["N"]) > 0
    other_channel = BotNotifier(unlimited.bot_token, "C-ELSEWHERE", base_url=unlimited.api_base_url,
                                thread_store=store, pacer=Pacer(0))
    assert other_channel.send(SlackMessage("new root", thread_keys=("i-0abc",))).thread_ts is None


def test_expired_thread_roots_are_replaced(aws):
    now = [1_000_000.0]
    store = DynamoThreadStore(TABLE, client=aws.client("dynamodb"), ttl_seconds=60, clock=lambda: now[0])
    store.put("i-old", "C1", "1.000001")
    assert store.get("i-old", "C1") == "1.000001"
    store.put("i-old", "C1", "2.000002")  # first writer wins while the root is live
    assert store.get("i-old", "C1") == "1.000001"
    now[0] += 61
    assert store.get("i-old", "C1") is None
    store.put("i-old", "C1", "3.000003")
    assert store.get("i-old", "C1") == "3.000003"


# --- from settings -------------------------------------------------------------------------------------------
def test_webhook_url_comes_from_ssm_and_is_cached(aws_env, receiver):
    receiver.clear()
    ssm = aws_env.client("ssm")
    ssm.put_parameter(Name="/costguard/test/slack-webhook", Value=receiver.webhook_url("first"),
                      Type="SecureString", Overwrite=True)
    settings = settings_for(COSTGUARD_SLACK_WEBHOOK_PARAMETER="/costguard/test/slack-webhook")
    notifier_from_settings(settings).send(SlackMessage("a"))
    ssm.put_parameter(Name="/costguard/test/slack-webhook", Value=receiver.webhook_url("second"),
                      Type="SecureString", Overwrite=True)
    notifier_from_settings(settings).send(SlackMessage("b"))  # cached value: still the first webhook
    parameters.clear_caches()
    notifier_from_settings(settings).send(SlackMessage("c"))
    assert [(m.target, m.text) for m in receiver.messages] == [("first", "a"), ("first", "b"), ("second", "c")]


def test_bot_token_from_ssm_threads_through_the_stage_table(aws_env, unlimited):
    unlimited.clear()
    aws_env.client("ssm").put_parameter(Name="/costguard/test/slack-bot-token", Value=unlimited.bot_token,
                                        Type="SecureString", Overwrite=True)
    settings = settings_for(COSTGUARD_SLACK_BOT_TOKEN_PARAMETER="/costguard/test/slack-bot-token",
                            COSTGUARD_SLACK_CHANNEL="C-SETTINGS")
    notifier = notifier_from_settings(settings, api_base_url=unlimited.api_base_url)
    assert isinstance(notifier, BotNotifier)
    root = notifier.send(SlackMessage("root", thread_keys=("i-settings",)))
    again = notifier_from_settings(settings, api_base_url=unlimited.api_base_url)
    assert again.send(SlackMessage("reply", thread_keys=("i-settings",))).thread_ts == root.ts


def test_slack_off_and_configuration_errors(aws_env, caplog):
    off = notifier_from_settings(settings_for())
    assert isinstance(off, LoggingNotifier)  # Slack off: the log is the alert, never a silent drop
    with caplog.at_level(logging.WARNING, logger="costguard"):
        assert off.send(SlackMessage("node i-1 <!channel> goes away")).via == "log"
    assert any("i-1" in str(getattr(record, "slack_text", "")) for record in caplog.records)
    with pytest.raises(ConfigError, match="COSTGUARD_SLACK_CHANNEL"):
        notifier_from_settings(settings_for(COSTGUARD_SLACK_BOT_TOKEN_PARAMETER="/costguard/test/token"))
    with pytest.raises(ConfigError, match="/costguard/test/missing"):
        notifier_from_settings(settings_for(COSTGUARD_SLACK_WEBHOOK_PARAMETER="/costguard/test/missing"))
    aws_env.client("ssm").put_parameter(Name="/costguard/test/not-a-url", Value="hooks.slack.com/x",
                                        Type="SecureString", Overwrite=True)
    with pytest.raises(ConfigError, match="value not shown") as raised:
        notifier_from_settings(settings_for(COSTGUARD_SLACK_WEBHOOK_PARAMETER="/costguard/test/not-a-url"))
    assert "hooks.slack.com" not in str(raised.value)


def test_an_unreachable_thread_store_costs_threading_not_the_message(unlimited, aws):
    unlimited.clear()
    store = DynamoThreadStore("no-such-table", client=aws.client("dynamodb"))
    bot = BotNotifier(unlimited.bot_token, "C-NOSTORE", base_url=unlimited.api_base_url, thread_store=store,
                      pacer=Pacer(0))
    root = bot.send(SlackMessage("root", thread_keys=("i-x",)))
    reply = bot.send(SlackMessage("reply", thread_keys=("i-x",)))  # still threads within this container
    assert root.thread_ts is None and reply.thread_ts == root.ts
    assert [m.text for m in unlimited.messages_for("C-NOSTORE")] == ["root", "reply"]


# --- secrets in errors ---------------------------------------------------------------------------------------
SECRET_URL = "https://hooks.slack.com/services/T000/B000/very-secret-path"


@pytest.mark.parametrize("url", [SECRET_URL + "\n", SECRET_URL.replace("very", "very secret"),
                                 SECRET_URL + "\x7f", SECRET_URL + "\u201d", "\t" + SECRET_URL])
def test_webhook_urls_with_unsafe_characters_are_refused_without_showing_them(url):
    with pytest.raises(ConfigError, match="value not shown") as raised:
        WebhookNotifier(url)
    assert "very-secret-path" not in str(raised.value) and "hooks.slack.com" not in str(raised.value)


def test_an_unexpected_webhook_error_keeps_only_its_type_name(monkeypatch):
    notifier = WebhookNotifier(SECRET_URL, pacer=Pacer(0))

    def broken(**kwargs):
        raise ValueError(f"cannot post to {SECRET_URL}")

    monkeypatch.setattr(notifier._client, "send", broken)
    with pytest.raises(SlackDeliveryError, match="ValueError") as raised:
        notifier.send(SlackMessage("x"))
    assert "very-secret-path" not in str(raised.value) and raised.value.__cause__ is None


def test_an_unexpected_bot_error_keeps_only_its_type_name(monkeypatch):
    bot = BotNotifier("xoxb-very-secret-token", "C1", base_url="http://127.0.0.1:9/api/", pacer=Pacer(0))

    def broken(**kwargs):
        raise ValueError("request with token xoxb-very-secret-token failed")

    monkeypatch.setattr(bot._client, "chat_postMessage", broken)
    with pytest.raises(SlackDeliveryError, match="ValueError") as raised:
        bot.send(SlackMessage("x"))
    assert "xoxb-very-secret-token" not in str(raised.value) and raised.value.__cause__ is None


# --- transient failures that slack_sdk's default handlers would not retry ------------------------------------
@pytest.mark.parametrize("status", [502, 504])
def test_webhook_retries_gateway_errors(receiver, status):
    receiver.clear()
    receiver.fail_next(2, status=status)
    WebhookNotifier(receiver.webhook_url("gateway"), pacer=Pacer(0)).send(SlackMessage(f"after two {status}s"))
    assert [m.text for m in receiver.messages_for("gateway")] == [f"after two {status}s"]


def test_bot_retries_gateway_errors(unlimited):
    unlimited.clear()
    unlimited.fail_next(1, status=502)
    unlimited.fail_next(1, status=504)
    bot = BotNotifier(unlimited.bot_token, "C-GATEWAY", base_url=unlimited.api_base_url, pacer=Pacer(0))
    assert bot.send(SlackMessage("through the gateway")).ts
    assert [m.text for m in unlimited.messages_for("C-GATEWAY")] == ["through the gateway"]


class _SlowFirstAnswer:
    """A loopback HTTP server that leaves the first request unanswered past the client's timeout."""

    def __init__(self, delay: float):
        import http.server
        import threading

        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests += 1
                if outer.requests == 1:
                    threading.Event().wait(delay)
                body = b'{"ok": true, "channel": "C1", "ts": "1.000001"}' if "/api/" in self.path else b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_first_answer():
    server = _SlowFirstAnswer(delay=1.5)
    yield server
    server.close()


def test_webhook_retries_a_read_timeout(slow_first_answer):
    notifier = WebhookNotifier(slow_first_answer.url + "/services/T/B/slow", pacer=Pacer(0))
    notifier._client.timeout = 0.5  # the real 10 s would make this test slow
    assert notifier.send(SlackMessage("after a timeout")).via == "webhook"
    assert slow_first_answer.requests == 2


def test_bot_retries_a_read_timeout(slow_first_answer):
    bot = BotNotifier("xoxb-t", "C1", base_url=slow_first_answer.url + "/api/", pacer=Pacer(0))
    bot._client.timeout = 0.5
    assert bot.send(SlackMessage("after a timeout")).ts == "1.000001"
    assert slow_first_answer.requests == 2


def test_parts_of_one_alert_all_post_in_the_channel_and_only_the_last_becomes_the_thread(unlimited):
    unlimited.clear()
    bot = BotNotifier(unlimited.bot_token, "C-PARTS", base_url=unlimited.api_base_url, pacer=Pacer(0))
    keys = ("i-parts1", "i-parts2")
    parts = [bot.send(SlackMessage(f"alert (part {n}/3)", thread_keys=keys, opens_thread=n == 3)) for n in (1, 2, 3)]
    follow_up = bot.send(SlackMessage("i-parts2 drained", thread_keys=("i-parts2",)))
    assert [m.thread_ts for m in unlimited.messages_for("C-PARTS")] == [None, None, None, parts[2].ts]
    assert follow_up.thread_ts == parts[2].ts


def test_parts_join_a_thread_their_instances_already_have(unlimited):
    unlimited.clear()
    bot = BotNotifier(unlimited.bot_token, "C-PARTS2", base_url=unlimited.api_base_url, pacer=Pacer(0))
    root = bot.send(SlackMessage("i-known rebalance", thread_keys=("i-known",)))
    parts = [bot.send(SlackMessage(f"part {n}", thread_keys=("i-known", "i-new"), opens_thread=n == 2))
             for n in (1, 2)]
    assert [part.thread_ts for part in parts] == [root.ts, root.ts]
    assert bot.send(SlackMessage("i-new later", thread_keys=("i-new",))).thread_ts == root.ts
