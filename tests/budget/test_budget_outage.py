"""Budget alerts under outages (issue 12, Deliver 6): a claimed threshold alert whose run died while posting is
retried by the next run; a limit-change notice Slack refused goes out with the next run's message; neither twice."""
from datetime import timedelta

import pytest

from tests.budget.factories import BUDGET
from tests.budget.test_budget_handler import NOW, cluster, put_budget, run, seed_ledger
from tests.slackfakes import RecordingNotifier


class Killed(BaseException):
    """The Lambda's end mid-post (timeout, OOM): no except clause of the run gets to release anything."""


def test_a_threshold_alert_claimed_by_a_run_killed_while_posting_is_sent_by_the_next_run(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube = cluster()
    with pytest.raises(Killed):
        run(aws, kube, RecordingNotifier(fail_after=0, error=Killed()))
    slack = RecordingNotifier()
    run(aws, kube, slack, now=NOW + timedelta(minutes=15))
    assert sum("80 % threshold" in message.text for message in slack.sent) == 1
    run(aws, kube, slack, now=NOW + timedelta(minutes=30))  # marked sent now: never again this period
    assert sum("80 % threshold" in message.text for message in slack.sent) == 1


def test_a_limit_change_notice_slack_refused_goes_with_the_next_runs_message_once(aws):
    put_budget(aws, BUDGET)
    seed_ledger(aws, 560.0)
    kube = cluster()
    with pytest.raises(RuntimeError):
        run(aws, kube, RecordingNotifier(fail_after=0, error=RuntimeError("Slack is down")))
    assert kube.pools["default"]["spec"]["limits"]["cpu"] == "50"  # the change happened, its notice did not
    slack = RecordingNotifier()
    run(aws, kube, slack, now=NOW + timedelta(minutes=15))
    notices = [message for message in slack.sent if "(from an earlier run)" in message.text
               and "cpu limit" in message.text]
    assert len(notices) == 1 and "100 → 50" in notices[0].text
    run(aws, kube, slack, now=NOW + timedelta(minutes=30))
    assert sum("(from an earlier run)" in message.text for message in slack.sent) == 1
