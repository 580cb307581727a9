"""The Slack actions route never makes a hostile value live in what it answers (issue 12, Deliver 4): user and
channel names, command text, every field of a button's value, and the names and annotations of the functions it
reports come back escaped or not at all — in the HTTP answer (a slash command's reply) and in the body posted to the
click's `response_url` (a button's threaded reply). The route runs in-process (`SlackActions.handle`: signature,
replay store on moto, parsing, allow-list, the in-memory cluster)."""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from chalice_app.config import load_settings
from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.slackapp.access import AllowList
from chalice_app.slackapp.decide import EXCLUDE_UNTIL
from chalice_app.slackapp.cluster import NotAFunction
from chalice_app.slackapp.service import SlackActions
from chalice_app.slackapp.store import SlackStore
from tests.memory_cluster import MemoryCluster
from tests.moto_helpers import stage_table_session
from tests.offhours.factories import deployment
from tests.slackfakes import HOSTILE, assert_hostile_inert

TABLE = "costguard-slack-escaping"
SECRET = "signing-secret"
NOW = datetime(2026, 11, 24, 19, 30, tzinfo=timezone.utc)
USER, CHANNEL = "U0ALLOWED1", "C0OPS00001"
RESPONSE_URL = "https://hooks.slack.com/actions/T0/1/x"
SETTINGS = load_settings({"COSTGUARD_CLUSTER_NAME": "prod", "COSTGUARD_TABLE_NAME": TABLE,
                          "COSTGUARD_DEFAULT_UPTIME": "Mon-Fri 07:00-19:00 Europe/London",
                          "COSTGUARD_DEFAULT_TIMEZONE": "Europe/London"})
NAMESPACE = SETTINGS.function_namespaces[0]


class ActionsMemoryCluster(MemoryCluster):
    """The route's cluster port (slackapp/cluster.ActionsCluster) over the in-memory cluster."""

    def openfaas_function(self, namespace, name):
        if (namespace, name) not in self.deployments:
            raise NotAFunction(name)
        return self.function(namespace, name)

    def patch_namespace(self, name, patch):
        self.namespaces[name] = {**self.namespaces.get(name, {}), **patch["metadata"]["annotations"]}


def hostile_cluster() -> ActionsMemoryCluster:
    kept = (NOW + timedelta(hours=2)).isoformat()
    return ActionsMemoryCluster([
        deployment(f"{HOSTILE}parked", 0, namespace=NAMESPACE, annotations={ORIGINAL_REPLICAS: HOSTILE}),
        deployment(f"{HOSTILE}kept", 1, namespace=NAMESPACE, annotations={EXCLUDE_UNTIL: kept}),
        deployment("sleep", 0, namespace=NAMESPACE, annotations={ORIGINAL_REPLICAS: "2", EXCLUDE_UNTIL: HOSTILE,
                                                                 "costguard.openfaas.com/uptime": HOSTILE}),
    ], namespaces={NAMESPACE: {"costguard.openfaas.com/uptime": HOSTILE}})


@pytest.fixture
def route():
    with stage_table_session(TABLE) as session:
        replies: list[dict] = []
        actions = SlackActions(SETTINGS, SlackStore(TABLE, session), hostile_cluster, clock=lambda: NOW,
                               secret=lambda: SECRET, allow_list=lambda: AllowList(users=(USER,)),
                               groups_of=lambda user, groups: set(), respond=lambda url, body: replies.append(body))
        yield actions, replies


def call(actions: SlackActions, body: str) -> dict:
    timestamp = str(int(NOW.timestamp()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    answer = actions.handle(body.encode(), {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature})
    return answer.body


def slash(text: str, user: str = USER) -> str:
    return urlencode({"command": "/costguard", "text": text, "user_id": user, "user_name": HOSTILE,
                      "channel_id": CHANNEL, "channel_name": HOSTILE, "response_url": RESPONSE_URL})


def click(value, user: str = USER) -> str:
    payload = {"type": "block_actions", "user": {"id": user, "username": HOSTILE, "name": HOSTILE},
               "channel": {"id": CHANNEL, "name": HOSTILE}, "container": {"message_ts": "1.2"},
               "response_url": RESPONSE_URL,
               "actions": [{"action_id": f"costguard:{HOSTILE}", "value": value if isinstance(value, str)
                            else json.dumps(value)}]}
    return urlencode({"payload": json.dumps(payload)})


def test_status_shows_hostile_function_names_and_annotations_escaped(route):
    actions, _ = route
    answer = call(actions, slash("status"))
    assert "Parked by off-hours" in answer["text"]
    assert_hostile_inert([answer])
    assert "parked" in answer["text"] and "kept" in answer["text"]


HOSTILE_COMMANDS = ([f"keep {part} 3h" for part in HOSTILE.split()] + [f"wake {part}" for part in HOSTILE.split()]
                    + [f"keep sleep {part}" for part in HOSTILE.split()] + [HOSTILE, f"status {HOSTILE}"])
HOSTILE_VALUES = [{"verb": "keep", "ns": HOSTILE, "fn": "sleep"}, {"verb": "keep", "ns": NAMESPACE, "fn": HOSTILE},
                  {"verb": HOSTILE, "ns": NAMESPACE, "fn": "sleep"},
                  {"verb": "keep", "ns": NAMESPACE, "fn": "sleep", "until": HOSTILE},
                  {"verb": "keep-namespace", "ns": HOSTILE}, HOSTILE, json.dumps(HOSTILE)]


def test_hostile_slash_commands_and_button_values_are_refused_without_echoing_anything_live(route):
    actions, _ = route
    for body in [slash(text) for text in HOSTILE_COMMANDS] + [click(value) for value in HOSTILE_VALUES]:
        answer = call(actions, body)
        assert "cannot do that" in answer["text"], (body, answer)
        assert_hostile_inert([answer], reached=False)  # refusals quote no value


@pytest.mark.parametrize("value", [{"verb": "wake", "ns": NAMESPACE, "fn": "sleep"},
                                   {"verb": "keep-namespace", "ns": NAMESPACE},
                                   {"verb": "keep", "ns": NAMESPACE, "fn": "sleep",
                                    "until": (NOW + timedelta(hours=3)).isoformat()}], ids=repr)
def test_a_click_on_objects_with_hostile_annotations_answers_in_the_thread_with_nothing_live(route, value):
    """The function's own annotations are hostile (a broken uptime, exclude-until, a hostile namespace policy);
    the answer, posted back to the click's response_url, names the requester and the object, nothing else live."""
    actions, replies = route
    answer = call(actions, click(value))
    assert answer["text"].startswith(f"<@{USER}> in <#{CHANNEL}>: "), answer
    assert replies and replies[-1]["text"] == answer["text"]
    assert_hostile_inert([answer, *replies], reached=False)


def test_a_refused_user_hears_only_their_own_mention(route):
    actions, _ = route
    answer = call(actions, slash("keep sleep 3h", user="U0STRANGER"))
    assert answer["text"].startswith("Sorry <@U0STRANGER>,")
    assert_hostile_inert([answer], reached=False)  # refusals quote no value
