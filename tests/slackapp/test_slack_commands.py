"""Pure parts of the Slack actions: parsing and validation, the allow-list, annotation plans, buttons, escaping."""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from chalice_app.offhours.model import FunctionDeployment
from chalice_app.offhours.policy import Defaults
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.text import code, escape
from chalice_app.slackapp.access import AllowListError, may_act, parse_allow_list
from chalice_app.slackapp.buttons import keep_buttons, wake_buttons, with_buttons
from chalice_app.slackapp.commands import InvalidRequest, button_value, parse_duration, parse_request
from chalice_app.slackapp.decide import EXCLUDE_UNTIL, plan_function_change, plan_namespace_change
from chalice_app.slackapp.headsup import going_down
from chalice_app.slackapp.service import response_url_allowed, signature_valid

LONDON = ZoneInfo("Europe/London")
UPTIME = {"costguard.openfaas.com/uptime": "Mon-Fri 07:00-19:00 Europe/London"}
MONDAY_1857 = datetime(2026, 11, 30, 18, 57, tzinfo=timezone.utc)


def slash(text: str, user: str = "U0ALEX0001") -> bytes:
    return urlencode({"command": "/costguard", "text": text, "user_id": user, "user_name": "alex",
                      "channel_id": "C0OPS00001", "channel_name": "ops",
                      "response_url": "https://hooks.slack.com/commands/T/1/x"}).encode()


def fn(name="sleep", replicas=1, annotations=None) -> FunctionDeployment:
    return FunctionDeployment(name, "openfaas-fn", replicas, "7", None, dict(annotations or {}), None)


@pytest.mark.parametrize("text,expected", [("3h", timedelta(hours=3)), ("90m", timedelta(minutes=90)),
                                           ("1h30m", timedelta(minutes=90)), ("24h", timedelta(hours=24))])
def test_durations_up_to_24_hours(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["24d", "25h", "0h", "", "3 h", "-1h", "1h1440m", "3x"])
def test_bad_durations_are_refused(text):
    with pytest.raises(InvalidRequest):
        parse_duration(text)


def test_slash_commands_parse_into_requests():
    keep = parse_request(slash("keep sleep 3h"), "openfaas-fn")
    assert (keep.verb, keep.namespace, keep.function, keep.duration) == ("keep", "openfaas-fn", "sleep",
                                                                         timedelta(hours=3))
    wake = parse_request(slash("wake other-ns/figlet"), "openfaas-fn")
    assert (wake.verb, wake.namespace, wake.function) == ("wake", "other-ns", "figlet")
    assert parse_request(slash("status"), "openfaas-fn").verb == "status"
    assert parse_request(slash(""), "openfaas-fn").verb == "help"
    assert parse_request(slash("help"), "openfaas-fn").verb == "help"


@pytest.mark.parametrize("text", ["keep ../sleep 3h", "keep Sleep 3h", "keep sl_eep 1h", "keep <@U1> 1h",
                                  "keep a/b/c 1h", "keep " + "a" * 64 + " 1h", "drop sleep", "keep sleep 3h x"])
def test_bad_slash_commands_are_refused(text):
    with pytest.raises(InvalidRequest):
        parse_request(slash(text), "openfaas-fn")


def test_a_repeated_form_field_or_a_foreign_command_is_refused():
    with pytest.raises(InvalidRequest):
        parse_request(slash("status") + b"&user_id=U0OTHER001", "openfaas-fn")
    with pytest.raises(InvalidRequest):
        parse_request(slash("status").replace(b"%2Fcostguard", b"%2Fother"), "openfaas-fn")


def test_a_button_click_carries_its_value_and_thread():
    until = datetime(2026, 11, 30, 22, tzinfo=timezone.utc)
    payload = {"type": "block_actions", "user": {"id": "U0ALEX0001", "username": "alex"},
               "channel": {"id": "C0OPS00001", "name": "ops"}, "container": {"message_ts": "1764.000001"},
               "response_url": "https://hooks.slack.com/actions/T/1/x",
               "actions": [{"action_id": "costguard:keep:openfaas-fn/sleep",
                            "value": button_value("keep", "openfaas-fn", "sleep", until)}]}
    request = parse_request(urlencode({"payload": json.dumps(payload)}).encode(), "openfaas-fn")
    assert (request.verb, request.function, request.until, request.requester.thread_ts) == \
        ("keep", "sleep", until, "1764.000001")


def test_the_allow_list_is_per_user_group_and_namespace():
    allow = parse_allow_list(json.dumps({"users": ["U0ADMIN001"], "usergroups": ["S0PLATFORM"],
                                         "namespaces": {"team-a": {"users": ["U0TEAMA001"]}}}), "test")
    assert may_act(allow, "U0ADMIN001", set(), "team-a") and may_act(allow, "U0ADMIN001", set(), "openfaas-fn")
    assert may_act(allow, "U0NOBODY01", {"S0PLATFORM"}, "openfaas-fn")
    assert may_act(allow, "U0TEAMA001", set(), "team-a") and not may_act(allow, "U0TEAMA001", set(), "openfaas-fn")
    assert may_act(allow, "U0TEAMA001", set(), None)  # status: any grant
    assert not may_act(allow, "U0NOBODY01", set(), None)
    assert not may_act(parse_allow_list("", "empty"), "U0ADMIN001", set(), None)
    with pytest.raises(AllowListError):
        parse_allow_list('{"users": ["not an id"]}', "test")


def test_keep_sets_exclude_until_and_never_shortens_one():
    request = parse_request(slash("keep sleep 3h"), "openfaas-fn")
    change = plan_function_change(request, fn(), UPTIME, Defaults(), MONDAY_1857, LONDON)
    assert change.patch == {"metadata": {"annotations": {EXCLUDE_UNTIL: "2026-11-30T21:57:00+00:00"},
                                         "resourceVersion": "7"}}
    later = fn(annotations={EXCLUDE_UNTIL: "2026-11-30T23:00:00+00:00"})
    assert not plan_function_change(request, later, UPTIME, Defaults(), MONDAY_1857, LONDON).writes


def test_wake_keeps_a_parked_function_up_until_its_next_uptime():
    parked = fn(replicas=0, annotations={"costguard.openfaas.com/original-replicas": "2"})
    request = parse_request(slash("wake sleep"), "openfaas-fn")
    night = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    change = plan_function_change(request, parked, UPTIME, Defaults(), night, LONDON)
    assert change.until == datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)
    assert "spec" not in change.patch  # never replicas


def test_keep_namespace_tonight_lasts_until_the_next_uptime():
    payload = {"type": "block_actions", "user": {"id": "U0ALEX0001"}, "channel": {"id": "C0OPS00001"},
               "actions": [{"action_id": "costguard:keep-namespace:openfaas-fn",
                            "value": button_value("keep-namespace", "openfaas-fn")}]}
    request = parse_request(urlencode({"payload": json.dumps(payload)}).encode(), "openfaas-fn")
    change = plan_namespace_change(request, UPTIME, Defaults(), MONDAY_1857, LONDON)
    assert change.until == datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)


def test_buttons_are_slack_sdk_blocks_with_the_default_keep_time():
    buttons = keep_buttons([fn()], {"openfaas-fn": UPTIME}, MONDAY_1857, Defaults(), 3, LONDON)
    message = with_buttons(SlackMessage("t", [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]),
                           buttons + wake_buttons([fn("figlet")]))
    actions = message.blocks[-1]
    assert actions["type"] == "actions"
    assert [b["text"]["text"] for b in actions["elements"]] == [
        "Keep sleep up until 22:00", "Keep openfaas-fn up tonight", "Wake figlet now"]
    assert json.loads(actions["elements"][0]["value"])["until"] == "2026-11-30T22:00+00:00"



def test_a_long_name_is_cut_in_a_buttons_text_never_the_time_after_it():
    long = "a" * 63  # Slack takes at most 75 characters of button text
    buttons = keep_buttons([FunctionDeployment(long, long, 1, "7", None, {}, None)], {long: UPTIME}, MONDAY_1857,
                           Defaults(), 3, LONDON) + wake_buttons([fn(long)])
    assert [b.text.text for b in buttons] == ["Keep " + "a" * 54 + "… up until 22:00",
                                             "Keep " + "a" * 58 + "… up tonight", f"Wake {long} now"]
    assert all(len(b.text.text) <= 75 for b in buttons) and buttons[0].action_id == f"costguard:keep:{long}/{long}"


def test_the_heads_up_names_only_functions_going_down_within_ten_minutes():
    functions = [fn("sleep"), fn("kept", annotations={EXCLUDE_UNTIL: "2026-11-30T23:00:00Z"}), fn("zero", 0)]
    start, going = going_down(functions, {"openfaas-fn": UPTIME}, datetime(2026, 11, 30, 18, 51,
                                                                           tzinfo=timezone.utc), Defaults())
    assert start == datetime(2026, 11, 30, 19, tzinfo=timezone.utc) and [f.name for f in going] == ["sleep"]
    assert going_down(functions, {"openfaas-fn": UPTIME}, datetime(2026, 11, 30, 18, 40, tzinfo=timezone.utc),
                      Defaults()) == (None, [])


def test_mrkdwn_escaping_neutralises_slack_control_sequences():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert code("a`b<c>") == "`a'b&lt;c&gt;`"


def test_signatures_and_response_urls(monkeypatch):
    from slack_sdk.signature import SignatureVerifier

    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    stamp = str(int(now.timestamp()))
    body = b"command=%2Fcostguard&text=status"
    good = SignatureVerifier("s" * 32).generate_signature(timestamp=stamp, body=body)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": good}
    assert signature_valid("s" * 32, body, headers, now)
    assert not signature_valid("s" * 32, body, headers, now + timedelta(minutes=6))
    assert not signature_valid("t" * 32, body, headers, now)
    assert not signature_valid("s" * 32, body + b"x", headers, now)

    class Settings:
        slack_api_base_url = "http://127.0.0.1:5000/api/"

    assert response_url_allowed("https://hooks.slack.com/actions/T/1/x", Settings)
    assert response_url_allowed("http://127.0.0.1:5000/actions/T/1/x", Settings)
    assert not response_url_allowed("https://hooks.slack.com.evil.example/x", Settings)
    assert not response_url_allowed("http://169.254.169.254/latest/meta-data", Settings)
