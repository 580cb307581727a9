"""The largest messages costguard builds pass the Slack twin's Block Kit checks (sandbox/block_kit.py: Slack's
documented limits), checked directly, no server: off-hours summaries, heads-up and buttons for hundreds of
functions in 40 namespaces with 63-character names, interruption alerts for 50 and 15,000 nodes, budget alerts for
48 NodePools, digests. Each list that was cut says how many it left out."""
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from chalice_app.budget.alerts import Alert, threshold_alerts
from chalice_app.budget.report import budget_message
from chalice_app.config import load_settings
from chalice_app.interruptions.chunking import plan_messages
from chalice_app.interruptions.digest import karpenter_digest, spot_digest
from chalice_app.kube.names import ANNOTATION_PREFIX
from chalice_app.offhours.model import FunctionDeployment
from chalice_app.offhours.nodepools import plan_nodepools
from chalice_app.offhours.planner import plan_functions
from chalice_app.offhours.policy import Defaults
from chalice_app.offhours.report import summary_message
from chalice_app.offhours.runreport import RunReport
from chalice_app.savings.hook import decorate
from chalice_app.slack.message import MAX_MESSAGE_TEXT, SlackMessage, message_text_length
from chalice_app.slackapp.buttons import wake_buttons, with_buttons
from chalice_app.slackapp.headsup import heads_up_message
from sandbox.block_kit import block_kit_problems
from tests.interruptions import factories as f
from tests.interruptions.test_interruption_alert import _burst
from tests.offhours.factories import function, nodepool

LONDON = ZoneInfo("Europe/London")
UPTIME = {"costguard.openfaas.com/uptime": "Mon-Fri 07:00-19:00 Europe/London"}
OFFICE = Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London")
NIGHT = datetime(2026, 11, 30, 19, 5, tzinfo=timezone.utc)
BEFORE_NIGHT = datetime(2026, 11, 30, 18, 57, tzinfo=timezone.utc)
NAMESPACES = 40


def long_name(prefix: str, index: int) -> str:
    """A 63-character Kubernetes name (the longest a label allows)."""
    return f"{prefix}{index:03d}-".ljust(63, "x")


def passes(message: SlackMessage | None) -> SlackMessage:
    assert message is not None
    assert block_kit_problems({"text": message.text, "blocks": message.blocks}) == []
    assert message_text_length(message) <= MAX_MESSAGE_TEXT
    return message


def deployments(count: int) -> list[FunctionDeployment]:
    return [FunctionDeployment(long_name("f", n), long_name("n", n % NAMESPACES), 1 + n % 3, "7", None, {}, None)
            for n in range(count)]


def tails(message: SlackMessage) -> list[int]:
    texts = [block["text"]["text"] for block in message.blocks if block["type"] == "section"]
    return [int(n) for text in texts for n in re.findall(r"^…and (\d+) ", text, flags=re.M)]


def huge_run_report() -> RunReport:
    """An evening where every list of the summary is long: scaled down (GitOps-managed), skipped, held back by the
    cap, bad annotations, 40 NodePools, unreadable namespaces and notes."""
    gitops = {"kustomize.toolkit.fluxcd.io/name": "x" * 63}
    functions = [function(long_name("f", n), 1 + n % 3, namespace=long_name("n", n % NAMESPACES), labels=gitops)
                 for n in range(300)]
    functions += [function(long_name("e", n), 2, namespace=long_name("n", n % NAMESPACES),
                           annotations={ANNOTATION_PREFIX + "uptime": "y" * 200}) for n in range(100)]
    functions += [function(long_name("s", n), 2, namespace=long_name("n", n % NAMESPACES),
                           annotations={ANNOTATION_PREFIX + "exclude": "true"}) for n in range(100)]
    pools = [nodepool(long_name("p", n), limits={"cpu": "1000"}) for n in range(NAMESPACES)]
    plan = plan_functions(functions, {}, NIGHT, OFFICE, timedelta(minutes=15), max_changes=200)
    return RunReport(now=NIGHT, dry_run=False, plan=plan,
                     outcomes=[SimpleNamespace(action=a, applied=True, error=None) for a in plan.changes],
                     nodepools=[(action, None) for action in plan_nodepools(pools, NIGHT, OFFICE,
                                                                            [p.name for p in pools])],
                     read_errors=[(f"namespace {long_name('n', n)}", "403 " + "z" * 300) for n in range(40)],
                     notes=["metrics unreadable: " + "w" * 300 for _ in range(30)])


def test_the_largest_off_hours_summary_passes_and_says_what_it_cut():
    report = huge_run_report()
    message = passes(summary_message(report))
    scaled = next(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    shown = scaled.count("\n• ")
    assert scaled.startswith("*Scaled down* (200)") and shown + tails(message)[0] == 200


def test_the_evening_summary_with_keep_buttons_for_40_namespaces_passes():
    report = huge_run_report()
    view = SimpleNamespace(slim=[function(a.name, 2, namespace=a.namespace) for a in report.plan.changes])
    settings = load_settings({"COSTGUARD_CLUSTER_NAME": "prod", "COSTGUARD_TABLE_NAME": "costguard-test",
                              "COSTGUARD_DEFAULT_TIMEZONE": "Europe/London"})
    message = passes(decorate(summary_message(report), report, view, None, settings,
                              {long_name("n", n): UPTIME for n in range(NAMESPACES)}, NIGHT))
    actions = [block for block in message.blocks if block["type"] == "actions"]
    assert len(actions) == 1 and len(actions[0]["elements"]) == 25
    assert "more buttons (Slack shows at most 25)" in message.blocks[-2]["elements"][0]["text"]


def test_the_heads_up_for_400_functions_passes_with_every_button_legible():
    functions = deployments(400)
    message = passes(heads_up_message(NIGHT.replace(minute=0), functions, {f.namespace: UPTIME for f in functions},
                                      BEFORE_NIGHT, Defaults(), 3, LONDON))
    actions = next(block for block in message.blocks if block["type"] == "actions")
    labels = [element["text"]["text"] for element in actions["elements"]]
    assert len(labels) == 25 and all(len(label) <= 75 for label in labels)
    assert labels[0].endswith("… up until 22:00") and labels[-1].endswith("… up tonight")
    # 8 functions + 17 of the 40 namespaces as buttons: the other 23 namespaces are named, not dropped
    note = message.blocks[-1]["elements"][0]["text"]
    assert note.startswith("23 more buttons (Slack shows at most 25): keep-namespace `n017-")


def test_wake_buttons_name_the_whole_time_and_action():
    message = passes(with_buttons(SlackMessage("t", [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]),
                                  wake_buttons(deployments(50))))
    labels = [element["text"]["text"] for element in message.blocks[-1]["elements"]]
    assert len(labels) == 8 and all(label.startswith("Wake f0") and label.endswith(" now") for label in labels)


@pytest.mark.parametrize("nodes", [50, 15000])
def test_interruption_alerts_pass(nodes):
    correlation = _burst(nodes, pools=("spot", "default", "gpu"), kinds=(f.spot_warning, f.rebalance))
    for message, _ in plan_messages(correlation, f.NOW, "c" * 100):
        passes(message)


def test_a_budget_alert_for_48_pools_passes_and_counts_what_it_cut():
    pools = [long_name("p", n) for n in range(48)]
    alerts = [alert for pool in pools for alert in threshold_alerts(pool, 100.0, 99.0, (50, 80, 90))]
    alerts += [Alert(pool, "over-limit", "over " + "v" * 600) for pool in pools]
    drivers = {pool: [(f"{long_name('n', n)}/{long_name('f', n)}", 2.0) for n in range(6)] for pool in pools}
    plan = SimpleNamespace(period="2026-11", pools=[], mode="enforce", now=NIGHT)
    message = passes(budget_message(plan, alerts, drivers))
    assert sum(block["type"] == "section" for block in message.blocks) == 48


def test_digests_pass():
    reasons = ("Underutilized", "Empty", "Drifted", "Expired")
    disruptions = Counter({(long_name("p", n), reasons[n % 4]): 1000 + n for n in range(200)})
    passes(karpenter_digest(disruptions, date(2026, 11, 30), "c" * 100))
    reclaims = Counter({(long_name("t", n), long_name("z", n % 9)): 10 + n for n in range(200)})
    passes(spot_digest({f"2026-W{week:02d}": reclaims for week in range(40, 48)}, "c" * 100, 8))
