"""Done when: in the sandbox, a signed "Keep sleep up until 22:00" click keeps `sleep` up through the 19:05 run
and parks it at the first run after 22:00 — the whole loop on loopback: the off-hours Lambda posts the heads-up
with buttons to the Slack receiver, a Slack user clicks one (signed, form-encoded, to the app's HTTP route served
by chalice.local), the answer lands in the heads-up's thread, and the off-hours runs do the rest."""
from datetime import datetime, timedelta, timezone

import pytest

from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.slackapp.decide import EXCLUDE_UNTIL
from chalice_app.slackapp.store import SlackStore
from sandbox import Sandbox
from sandbox.demo_budget import seed_prices
from sandbox.objects import FUNCTION_NAMESPACE
from sandbox.slack_user import SlackPerson, find_button, serve_slack_actions

MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)  # London is on GMT: 19:00 London = 19:00 UTC
UPTIME = "Mon-Fri 07:00-19:00 Europe/London"


class SimClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


@pytest.fixture(scope="module")
def loop():
    clock = SimClock(MONDAY)
    with Sandbox(functions=4, nodes=3, now=MONDAY - timedelta(days=1)) as sb, \
            sb.activate(COSTGUARD_DEFAULT_TIMEZONE="Europe/London"), serve_slack_actions(sb, clock=clock) as slack:
        namespace = sb.kube.store.get("v1", "Namespace", None, FUNCTION_NAMESPACE)
        namespace["metadata"].setdefault("annotations", {})["costguard.openfaas.com/uptime"] = UPTIME
        sb.kube.store.put(namespace)
        seed_prices(sb, MONDAY)  # moto has no Pricing API: the savings ledger reads the price cache, as budget does
        yield sb, slack, clock


def replicas(sb, name: str) -> int:
    return sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, name)["spec"]["replicas"]


def tick(sb, clock: SimClock, hour: int, minute: int) -> dict:
    clock.now = MONDAY.replace(hour=hour, minute=minute)
    summary = handler.run(load_settings(), clock.now, OffhoursPorts.from_settings(load_settings()))
    sb.sim.settle()
    return summary


def test_a_click_on_keep_sleep_up_until_22_keeps_it_up_through_19_05_and_parks_it_after_22(loop):
    sb, slack, clock = loop
    tick(sb, clock, 18, 45)
    before = len(sb.slack.messages)
    tick(sb, clock, 18, 50)  # the heads-up: these functions park at 19:00, with keep buttons
    heads_up = [m for m in sb.slack.messages[before:] if "park at 19:00" in m.text]
    assert len(heads_up) == 1
    button, _ = find_button(heads_up[0], "Keep sleep up until 22:00")
    tick(sb, clock, 18, 55)  # a second run in the window sends no second heads-up
    assert [m for m in sb.slack.messages[before:] if "park at 19:00" in m.text] == heads_up

    clock.now = MONDAY.replace(hour=18, minute=57)
    person = SlackPerson()
    status, answer = slack.click(heads_up[0], "Keep sleep up until 22:00", person)
    assert status == 200, answer
    deployment = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, "sleep")
    assert deployment["metadata"]["annotations"][EXCLUDE_UNTIL] == "2026-11-30T22:00:00+00:00"
    reply = sb.slack.messages_for("response_url")[-1]
    assert reply.thread_ts == heads_up[0].ts and "<@U0ALEX0001>" in reply.text and "22:00" in reply.text
    entry = SlackStore(sb.table_name, sb.session()).audit_entries("2026-11-30")[-1]
    assert (entry["user_id"], entry["channel_id"], entry["verb"], entry["target"], entry["at"]) == \
        (person.user_id, person.channel_id, "keep", "openfaas-fn/sleep", "2026-11-30T18:57:00+00:00")

    sleep_before, figlet_before = replicas(sb, "sleep"), replicas(sb, "figlet")
    tick(sb, clock, 19, 5)
    assert replicas(sb, "sleep") == sleep_before > 0  # kept up through the 19:05 run
    assert replicas(sb, "figlet") == 0 and figlet_before > 0  # the others are parked
    tick(sb, clock, 21, 55)
    assert replicas(sb, "sleep") == sleep_before
    tick(sb, clock, 22, 5)  # the first run after 22:00 parks it
    sleep = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, "sleep")
    assert sleep["spec"]["replicas"] == 0 and sleep["metadata"]["annotations"][ORIGINAL_REPLICAS] == \
        str(sleep_before)


def test_the_callers_identity_is_back_when_the_answer_arrives_even_if_the_route_leaves_its_own_late(loop, monkeypatch):
    """The route's thread switches the process to the API handler's credentials; the answer reaches the caller
    before that thread switches back. A caller that went on at once ran its next Lambda as the route (seen in CI:
    an off-hours run refused as costguard:slack), so the Slack user waits until the route's request is over."""
    import contextlib
    import os
    import time

    sb, slack, _ = loop
    own = sb.as_lambda

    @contextlib.contextmanager
    def slow_to_leave(function):
        with own(function):
            yield
            time.sleep(0.3)  # a loaded machine: the thread is descheduled after it wrote the answer

    monkeypatch.setattr(sb, "as_lambda", slow_to_leave)
    caller = os.environ["AWS_ACCESS_KEY_ID"]
    status, _ = slack.slash("help")
    assert status == 200
    assert os.environ["AWS_ACCESS_KEY_ID"] == caller
