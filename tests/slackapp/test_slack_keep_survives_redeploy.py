"""A keep clicked in Slack survives a redeploy: faas-netes' update handler replaces the Deployment's annotations
with the function's own (pkg/handlers/update.go, `deployment.Annotations = annotations`; the twin's
OpenFaaS.redeploy), which removes `exclude-until`. The keep is also in the stage table (offhours/keeps.py), so a
`faas-cli deploy` at 20:00 does not get the function parked at 20:05 after someone asked for it until 22:00."""
from datetime import datetime, timedelta, timezone

from chalice_app.config import load_settings
from chalice_app.kube.names import EXCLUDE_UNTIL, ORIGINAL_REPLICAS
from chalice_app.offhours import handler
from chalice_app.offhours.explain import explain
from chalice_app.offhours.ports import OffhoursPorts
from sandbox import Sandbox
from sandbox.demo_budget import seed_prices
from sandbox.objects import FUNCTION_NAMESPACE
from sandbox.slack_user import serve_slack_actions

MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)  # London is on GMT


class SimClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def test_a_keep_clicked_in_slack_outlives_a_redeploy_and_ends_when_asked():
    clock = SimClock(MONDAY)
    with Sandbox(functions=4, nodes=3, now=MONDAY - timedelta(days=1)) as sb, \
            sb.activate(COSTGUARD_DEFAULT_TIMEZONE="Europe/London",
                        COSTGUARD_DEFAULT_UPTIME="Mon-Fri 07:00-19:00 Europe/London"), \
            serve_slack_actions(sb, clock=clock) as slack:
        seed_prices(sb, MONDAY)

        def tick(hour: int, minute: int) -> dict:
            clock.now = MONDAY.replace(hour=hour, minute=minute)
            settings = load_settings()
            summary = handler.run(settings, clock.now, OffhoursPorts.from_settings(settings))
            sb.sim.settle()
            return summary

        def deployment() -> dict:
            return sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, "sleep")

        tick(18, 45)
        tick(18, 50)  # the heads-up with its keep buttons
        heads_up = next(m for m in reversed(sb.slack.messages) if "park at 19:00" in m.text)
        clock.now = MONDAY.replace(hour=18, minute=57)
        status, answer = slack.click(heads_up, "Keep sleep up until 22:00")
        assert status == 200, answer
        replicas = deployment()["spec"]["replicas"]
        assert replicas > 0

        tick(19, 5)
        sb.openfaas.redeploy("sleep")  # faas-cli deploy from a pipeline: the annotations are the function's own
        assert EXCLUDE_UNTIL not in (deployment()["metadata"].get("annotations") or {})
        tick(20, 5)
        assert deployment()["spec"]["replicas"] == replicas  # still kept, from the stage table
        with sb.as_lambda("offhours"):
            why = explain("sleep", FUNCTION_NAMESPACE, MONDAY.replace(hour=20, minute=6))
        assert why.excluded and why.action == "skip", why
        assert "excluded by a Slack keep in the stage table (its annotation is gone)" in why.reason, why.reason

        # `/costguard status` reads the table too: a parked function whose mirror a redeploy removed still shows
        figlet = sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, "figlet")
        evening_count = figlet["metadata"]["annotations"][ORIGINAL_REPLICAS]
        sb.openfaas.redeploy("figlet")
        sb.sim.settle()
        assert ORIGINAL_REPLICAS not in (sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, "figlet")
                                         ["metadata"].get("annotations") or {})
        clock.now = MONDAY.replace(hour=20, minute=10)
        status, answer = slack.slash("status")
        assert status == 200, answer
        parked, kept = answer["text"].split("Kept up from Slack or by annotation")
        assert f"`{FUNCTION_NAMESPACE}/figlet` at" in parked and f"restores to `{evening_count}`" in parked
        assert f"`{FUNCTION_NAMESPACE}/sleep` kept up until Mon 22:00" in kept

        tick(22, 5)
        assert deployment()["spec"]["replicas"] == 0  # parked once the keep has ended


def test_a_keep_the_table_could_not_record_is_said_in_the_answer(monkeypatch):
    """The annotation holds the keep; the person is told a redeploy before then would end it."""

    from chalice_app.slackapp.access import AllowList
    from chalice_app.slackapp.service import SlackActions
    from chalice_app.slackapp.store import SlackStore
    from tests.moto_helpers import stage_table_session
    from tests.offhours.factories import deployment as make_deployment
    from tests.slackapp.test_slack_escaping import NOW, SECRET, SETTINGS, TABLE, USER, ActionsMemoryCluster, call, slash

    cluster = ActionsMemoryCluster([make_deployment("sleep", 1, namespace=SETTINGS.function_namespaces[0])])
    with stage_table_session(TABLE) as session:
        store = SlackStore(TABLE, session)

        def unavailable(*args):
            raise RuntimeError("DynamoDB is unavailable")

        monkeypatch.setattr(store, "record_keep", unavailable)
        actions = SlackActions(SETTINGS, store, lambda: cluster, clock=lambda: NOW, secret=lambda: SECRET,
                               allow_list=lambda: AllowList(users=(USER,)), groups_of=lambda user, groups: set(),
                               respond=lambda url, body: None)
        answer = call(actions, slash("keep sleep 2h"))
    assert "stays up until" in answer["text"] and "a redeploy before then would end it" in answer["text"]
    assert EXCLUDE_UNTIL in cluster.deployments[(SETTINGS.function_namespaces[0], "sleep")]["metadata"]["annotations"]
