"""The Slack route through Chalice's own test client, against the sandbox (table, SSM, fake Kubernetes API) as the
app's identity: every forged, replayed, unauthorised or malformed request is refused with nothing changed, nothing
logged that holds a secret, and the one good request does what it says."""
import json
import time
from datetime import datetime, timezone

import pytest
from chalice.test import Client

from chalice_app.observability import logger
from chalice_app.slackapp import route
from chalice_app.slackapp.store import SlackStore
from sandbox import Sandbox, reset_app_caches
from sandbox.slack_user import SIGNING_SECRET, SlackPerson, SlackUser, _chalice_app_module, configure

ALLOWED = SlackPerson()
STRANGER = SlackPerson(user_id="U0MALLORY1", user_name="mallory")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(functions=4, nodes=3) as sb, sb.activate():
        configure(sb, [ALLOWED.user_id])
        route.reset()
        yield sb
        route.reset()


@pytest.fixture(scope="module")
def client(sandbox):
    with Client(_chalice_app_module().app, stage_name=sandbox.stage) as chalice_client:
        yield chalice_client


@pytest.fixture
def slack(sandbox):
    # SlackUser only to build Slack's bodies and signatures; the requests go through the Chalice test client.
    return SlackUser("http://unused", sandbox.slack)


def cluster_state(sb) -> str:
    store = sb.kube.store
    objects = store.list("apps/v1", "Deployment", "openfaas-fn") + store.list("v1", "Namespace")
    return json.dumps([(o["metadata"]["name"], o["metadata"].get("annotations"), o.get("spec", {}).get("replicas"))
                       for o in objects], sort_keys=True)


def post(client, body: str, headers: dict):
    response = client.http.post("/slack/actions", headers=headers, body=body.encode())
    return response.status_code, json.loads(response.body or b"{}")


_stores: dict[int, SlackStore] = {}


def audit_today(sb) -> list[dict]:
    store = _stores.setdefault(id(sb), SlackStore(sb.table_name, sb.session()))
    return store.audit_entries(f"{datetime.now(timezone.utc):%Y-%m-%d}")


def refused(client, sb, body, headers, capfd) -> tuple[int, dict, str]:
    before, audited = cluster_state(sb), len([e for e in audit_today(sb) if e["outcome"] == "done"])
    logger.setLevel("DEBUG")
    try:
        status, answer = post(client, body, headers)
    finally:
        logger.setLevel("WARNING")
    output = capfd.readouterr()
    assert cluster_state(sb) == before
    assert len([e for e in audit_today(sb) if e["outcome"] == "done"]) == audited
    logged = output.out + output.err
    assert SIGNING_SECRET not in logged
    assert headers.get("X-Slack-Signature", "v0=none") not in logged
    assert "/actions/TSANDBOX0/" not in logged  # the response_url is a capability: never logged
    return status, answer, logged


def test_a_bad_signature_is_401(client, sandbox, slack, capfd):
    body = slack.slash_body("keep sleep 3h", ALLOWED)
    status, _, _ = refused(client, sandbox, body, slack.signed_headers(body, secret="not-the-secret-0123456789"),
                           capfd)
    assert status == 401


def test_a_body_changed_after_signing_is_401(client, sandbox, slack, capfd):
    body = slack.slash_body("keep sleep 3h", ALLOWED)
    headers = slack.signed_headers(body)
    status, _, _ = refused(client, sandbox, body.replace("3h", "9h"), headers, capfd)
    assert status == 401


def test_an_old_timestamp_is_401_even_when_correctly_signed(client, sandbox, slack, capfd):
    body = slack.slash_body("keep sleep 3h", ALLOWED)
    status, _, _ = refused(client, sandbox, body, slack.signed_headers(body, timestamp=int(time.time()) - 6 * 60),
                           capfd)
    assert status == 401


def test_missing_or_malformed_signature_headers_are_401(client, sandbox, slack, capfd):
    body = slack.slash_body("status", ALLOWED)
    for headers in ({"Content-Type": "application/x-www-form-urlencoded"},
                    {**slack.signed_headers(body), "X-Slack-Request-Timestamp": "soon"}):
        status, _, _ = refused(client, sandbox, body, headers, capfd)
        assert status == 401


def test_a_replayed_request_is_401_and_changes_nothing(client, sandbox, slack, capfd):
    body = slack.slash_body("wake figlet", ALLOWED)
    headers = slack.signed_headers(body)
    first, _ = post(client, body, headers)
    assert first == 200
    capfd.readouterr()
    status, answer, _ = refused(client, sandbox, body, headers, capfd)
    assert status == 401 and answer["text"] == "replayed request"


def test_a_user_not_on_the_allow_list_gets_a_polite_403(client, sandbox, slack, capfd):
    body = slack.slash_body("keep sleep 3h", STRANGER)
    status, answer, _ = refused(client, sandbox, body, slack.signed_headers(body), capfd)
    assert status == 403
    assert answer["text"].startswith("Sorry <@U0MALLORY1>") and "nothing was changed" in answer["text"]
    assert any(e["user_id"] == STRANGER.user_id and e["outcome"] == "refused" for e in audit_today(sandbox))


@pytest.mark.parametrize("text", ["keep ../sleep 3h", "keep sleep/../../etc 3h", "keep <!channel> 3h",
                                  "wake *sleep*", "keep sleep 24d", "keep sleep 25h", "keep sleep 0m",
                                  "keep kube-system/sleep 1h", "keep sleep " + "9" * 300])
def test_bad_names_durations_and_foreign_namespaces_are_400(client, sandbox, slack, capfd, text):
    body = slack.slash_body(text, ALLOWED)
    status, answer, _ = refused(client, sandbox, body, slack.signed_headers(body), capfd)
    assert status == 400
    assert "<!channel>" not in answer["text"]


def test_a_forged_button_value_is_400(client, sandbox, slack, capfd):
    payload = {"type": "block_actions", "user": {"id": ALLOWED.user_id}, "channel": {"id": ALLOWED.channel_id},
               "container": {"message_ts": "1.2"}, "response_url": sandbox.slack.response_url(),
               "actions": [{"action_id": "costguard:keep", "value": json.dumps(
                   {"verb": "keep", "ns": "openfaas-fn", "fn": "sleep", "until": "2099-01-01T00:00+00:00"})}]}
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)})
    status, answer, _ = refused(client, sandbox, body, slack.signed_headers(body), capfd)
    assert status == 400 and "24 hours" in answer["text"]


def test_the_allowed_user_keeps_a_function_up_by_annotation_only(client, sandbox, slack):
    body = slack.slash_body("keep nodeinfo 2h", ALLOWED)
    replicas = sandbox.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "nodeinfo")["spec"]["replicas"]
    status, answer = post(client, body, slack.signed_headers(body))
    assert status == 200 and answer["response_type"] == "in_channel"
    deployment = sandbox.kube.store.get("apps/v1", "Deployment", "openfaas-fn", "nodeinfo")
    until = datetime.fromisoformat(deployment["metadata"]["annotations"]["costguard.openfaas.com/exclude-until"])
    assert 7190 <= (until - datetime.now(timezone.utc)).total_seconds() <= 7200
    assert deployment["spec"]["replicas"] == replicas  # never a replica write from the request
    entry = [e for e in audit_today(sandbox) if e["target"] == "openfaas-fn/nodeinfo"][-1]
    assert (entry["user_id"], entry["channel_id"], entry["verb"], entry["outcome"]) == \
        (ALLOWED.user_id, ALLOWED.channel_id, "keep", "done")


def test_the_rate_limit_is_per_user(sandbox, monkeypatch):
    # one instant for Slack's timestamps and the route's clock, so all requests fall in one 10-minute window
    instant = float(int(time.time()))
    slack = SlackUser("http://unused", sandbox.slack, clock=lambda: instant)
    monkeypatch.setattr(route, "clock", lambda: datetime.fromtimestamp(instant, timezone.utc))
    monkeypatch.setenv("COSTGUARD_SLACK_ACTIONS_PER_USER", "2")
    other, fresh = SlackPerson(user_id="U0BUSY0001"), SlackPerson(user_id="U0FRESH001")
    configure(sandbox, [ALLOWED.user_id, other.user_id, fresh.user_id])
    reset_app_caches()
    route.reset()
    try:
        with Client(_chalice_app_module().app, stage_name=sandbox.stage) as client:
            statuses = []
            for _ in range(3):
                body = slack.slash_body("status", other)
                statuses.append(post(client, body, slack.signed_headers(body))[0])
            body = slack.slash_body("status", fresh)
            assert statuses == [200, 200, 429]
            assert post(client, body, slack.signed_headers(body))[0] == 200
    finally:
        configure(sandbox, [ALLOWED.user_id])
        monkeypatch.delenv("COSTGUARD_SLACK_ACTIONS_PER_USER")
        reset_app_caches()
        route.reset()


def test_a_member_of_an_allowed_user_group_may_act(sandbox, slack, monkeypatch):
    """User groups are resolved with Slack's usergroups.users.list (bot token), served by the sandbox receiver."""
    member, outsider = SlackPerson(user_id="U0GROUP001"), SlackPerson(user_id="U0OUTSIDE1")
    sandbox.slack.usergroups["S0PLATFORM"] = [member.user_id]
    token_parameter = "/costguard/sandbox/slack-bot-token"
    sandbox.session().client("ssm").put_parameter(Name=token_parameter, Value=sandbox.slack.bot_token,
                                                  Type="SecureString", Overwrite=True)
    monkeypatch.setenv("COSTGUARD_SLACK_BOT_TOKEN_PARAMETER", token_parameter)
    configure(sandbox, [ALLOWED.user_id], usergroups=["S0PLATFORM"])
    reset_app_caches()
    try:
        with Client(_chalice_app_module().app, stage_name=sandbox.stage) as client:
            body = slack.slash_body("status", member)
            assert post(client, body, slack.signed_headers(body))[0] == 200
            body = slack.slash_body("status", outsider)
            assert post(client, body, slack.signed_headers(body))[0] == 403
    finally:
        configure(sandbox, [ALLOWED.user_id])
        monkeypatch.delenv("COSTGUARD_SLACK_BOT_TOKEN_PARAMETER")
        reset_app_caches()
