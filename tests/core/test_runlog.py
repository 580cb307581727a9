import boto3
import pytest

from chalice_app.runlog import MAX_RECENT_ALERTS, RunLog, appended_alerts
from tests.moto_helpers import create_stage_table, moto_server


@pytest.fixture(scope="module")
def table_session():
    with moto_server() as endpoint:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name="us-east-1")
        original = session.resource

        def resource(name, **kwargs):
            return original(name, endpoint_url=endpoint, **kwargs)

        session.resource = resource
        create_stage_table(session.resource("dynamodb").meta.client, "costguard-test")
        yield session


def test_appended_alerts_keeps_the_newest():
    alerts = [{"n": i} for i in range(MAX_RECENT_ALERTS)]
    kept = appended_alerts(alerts, {"n": "new"})
    assert len(kept) == MAX_RECENT_ALERTS
    assert kept[-1] == {"n": "new"} and kept[0] == {"n": 1}


def test_runs_and_alerts_round_trip(table_session):
    log = RunLog("costguard-test", session=table_session)
    assert log.last_runs() == {}
    log.record_run("offhours", {"scaled_down": 3, "errors": 0}, at="2026-11-24T19:05:00+00:00")
    log.record_run("budget", {"changed": 1}, ok=False, at="2026-11-24T19:00:00+00:00")
    runs = log.last_runs()
    assert runs["offhours"] == {"at": "2026-11-24T19:05:00+00:00", "ok": True,
                                "summary": {"errors": 0, "scaled_down": 3}}
    assert runs["budget"]["ok"] is False
    for index in range(MAX_RECENT_ALERTS + 2):
        log.record_alert("interruptions", f"spot warning {index}")
    alerts = log.recent_alerts()
    assert len(alerts) == MAX_RECENT_ALERTS
    assert alerts[-1]["text"] == f"spot warning {MAX_RECENT_ALERTS + 1}"
