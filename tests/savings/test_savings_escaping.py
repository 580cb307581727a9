"""What savings and the Slack actions add to the off-hours summary is inert mrkdwn (issue 12, Deliver 4): function,
namespace and NodePool names from the cluster and from the savings ledger, in the morning's night line, the
Monday weekly digest, the evening's keep-up buttons, the morning's wake buttons and the heads-up before downtime,
all through the functions the off-hours hook calls (`savings.hook.decorate`, `heads_up_message`); every rendered
text of every block (buttons included) is checked."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from chalice_app.config import load_settings
from chalice_app.kube.names import ANNOTATION_PREFIX, ORIGINAL_REPLICAS
from chalice_app.offhours.planner import Kind, plan_functions
from chalice_app.offhours.policy import Defaults
from chalice_app.offhours.report import summary_message
from chalice_app.offhours.runreport import Outcome, RunReport
from chalice_app.savings.hook import decorate
from chalice_app.savings.ledger import Cursor, ParkedFunctionCost, ParkedPoolCost, State, book
from chalice_app.savings.report import digest_text
from chalice_app.savings.service import ClusterView
from chalice_app.slackapp.headsup import heads_up_message
from tests.offhours.factories import function
from tests.slackfakes import HOSTILE, HOSTILE_ESCAPED, assert_hostile_inert

UPTIME = "Mon-Fri 07:00-19:00 Europe/London"
EVENING = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
MORNING = datetime(2026, 11, 30, 7, 5, tzinfo=timezone.utc)  # a Monday: the weekly digest comes along
NAMESPACE, NAME, POOL = f"{HOSTILE}ns", f"{HOSTILE}fn", f"{HOSTILE}pool"
SETTINGS = load_settings({"COSTGUARD_CLUSTER_NAME": "prod", "COSTGUARD_TABLE_NAME": "costguard-test",
                          "COSTGUARD_DEFAULT_UPTIME": UPTIME, "COSTGUARD_DEFAULT_TIMEZONE": "Europe/London"})
DEFAULTS = Defaults.from_settings(SETTINGS)


def hostile_functions(replicas: int, **kwargs):
    annotations = {ANNOTATION_PREFIX + "uptime": UPTIME, **kwargs.pop("annotations", {})}
    return [function(NAME, replicas, namespace=NAMESPACE, annotations=annotations, **kwargs),
            function(f"{HOSTILE}other", replicas, namespace=NAMESPACE, annotations=annotations, **kwargs)]


def run_report(now: datetime, functions) -> RunReport:
    plan = plan_functions(functions, {}, now, DEFAULTS, timedelta(minutes=15), max_changes=100)
    applied = [Outcome(action, applied=True, patch=action.patch()) for action in plan.actions
               if action.kind is not Kind.KEEP]
    return RunReport(now=now, dry_run=False, plan=plan, outcomes=applied)


def view(functions) -> ClusterView:
    return ClusterView([], list(functions), [], [], [], {NAMESPACE: {}})


def night_booking():
    """Parked from the evening until the morning, then restored: the booking that ends the night."""
    parked = State({f"{NAMESPACE}/{NAME}": ParkedFunctionCost(NAMESPACE, NAME, POOL, 2, 0, 0, 0.01)},
                   {POOL: ParkedPoolCost(POOL, 3, 0.3, 1, 0.1)})
    start = book(Cursor(), parked, MORNING - timedelta(hours=12)).cursor
    return book(start, State(), MORNING)


def test_the_evening_summary_with_keep_buttons_is_inert():
    functions = hostile_functions(3)
    report = run_report(EVENING, functions)
    assert report.applied(Kind.SCALE_DOWN), "the evening run parks the hostile functions"
    message = decorate(summary_message(report), report, view(functions), None, SETTINGS, {NAMESPACE: {}}, EVENING)
    assert_hostile_inert([message])
    buttons = [element["text"]["text"] for block in message.blocks if block["type"] == "actions"
               for element in block["elements"]]
    # the function's and the namespace's buttons (cut at Slack's 75 characters for a button)
    assert len(buttons) == 3 and all(text.startswith(f"Keep {HOSTILE_ESCAPED[:40]}") for text in buttons), buttons


def test_the_monday_morning_summary_with_savings_digest_and_wake_buttons_is_inert():
    parked = hostile_functions(0, annotations={ORIGINAL_REPLICAS: "2"})
    restored = function("restored", 0, namespace=NAMESPACE,
                        annotations={ANNOTATION_PREFIX + "uptime": UPTIME, ORIGINAL_REPLICAS: "1"})
    report = run_report(MORNING, [restored])
    assert report.applied(Kind.RESTORE)
    booking = night_booking()
    assert booking.night is not None and booking.days
    weekly = digest_text(booking.days)
    message = decorate(summary_message(report), report, view([*parked, restored]), booking, SETTINGS,
                       {NAMESPACE: {}}, MORNING, weekly)
    texts = assert_hostile_inert([message])
    assert any(text.startswith("*costguard savings this week*") and HOSTILE_ESCAPED in text for text in texts)
    assert any(text.startswith(f"Wake {HOSTILE_ESCAPED[:40]}") for text in texts)


def test_the_heads_up_before_downtime_is_inert():
    functions = hostile_functions(2)
    start = datetime(2026, 11, 24, 19, 0, tzinfo=timezone.utc)
    message = heads_up_message(start, functions, {NAMESPACE: {}}, start - timedelta(minutes=5), DEFAULTS,
                               SETTINGS.offhours_keep_hours, ZoneInfo("Europe/London"))
    assert_hostile_inert([message])
    assert any(block["type"] == "actions" for block in message.blocks)
