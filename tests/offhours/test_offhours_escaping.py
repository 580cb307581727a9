"""Every value from the cluster that reaches the off-hours Slack summary is inert mrkdwn: `<!channel>` and links in
function, namespace and NodePool names, annotation values (quoted in error reasons), GitOps tracking labels and
capped restores come out escaped (Slack's `&`, `<`, `>` rule: api.slack.com/reference/surfaces/formatting#escaping)."""
import json
from datetime import datetime, timedelta, timezone

from chalice_app.kube.names import ANNOTATION_PREFIX, ORIGINAL_REPLICAS
from chalice_app.offhours.nodepools import plan_nodepools
from chalice_app.offhours.planner import plan_functions
from chalice_app.offhours.policy import Defaults
from chalice_app.offhours.report import summary_message
from chalice_app.offhours.runreport import RunReport
from tests.offhours.factories import function, nodepool
from tests.slackfakes import assert_inert, message_texts

OFFICE = Defaults(uptime="Mon-Fri 07:00-19:00 Europe/London")
NIGHT = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 25, 7, 5, tzinfo=timezone.utc)
MENTION, LINK = "<!channel>", "<https://evil.example|click here>"
HOSTILE = f"{MENTION}{LINK}"


def _report(now, functions, pools=()):
    plan = plan_functions(functions, {}, now, OFFICE, timedelta(minutes=15), max_changes=100)
    pool_actions = plan_nodepools(list(pools), now, OFFICE, [pool.name for pool in pools])
    return RunReport(now=now, dry_run=True, plan=plan, nodepools=[(action, None) for action in pool_actions],
                     read_errors=[(f"namespace {HOSTILE}", f"403 {HOSTILE}")], notes=[f"note {HOSTILE}"])


def test_names_and_annotation_values_are_inert_in_the_evening_summary():
    functions = [function(HOSTILE, 3, namespace=HOSTILE, labels={"kustomize.toolkit.fluxcd.io/name": HOSTILE}),
                 function("bad-value", 2, annotations={ANNOTATION_PREFIX + "downtime-replicas": HOSTILE}),
                 function("bad-zone", 2, annotations={ANNOTATION_PREFIX + "uptime": f"Mon-Fri 07:00-19:00 {HOSTILE}"})]
    pools = [nodepool(HOSTILE, limits={"cpu": "10"}),
             nodepool("bad-pool", limits={"cpu": "10"}, annotations={ANNOTATION_PREFIX + "exclude": HOSTILE})]
    assert_inert(summary_message(_report(NIGHT, functions, pools)))


def test_a_capped_restore_and_its_label_are_inert_in_the_morning_summary():
    functions = [function(HOSTILE, 0, annotations={ORIGINAL_REPLICAS: "5000"}),
                 function("restored", 0, annotations={ORIGINAL_REPLICAS: json.dumps(HOSTILE)})]
    message = summary_message(_report(MORNING, functions))
    assert_inert(message)
    assert any("capped: 5000 stored" in text for text in message_texts(message.blocks))
