import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalice_app.runlog import MAX_RECENT_ALERTS, RunLog, appended_alerts


@pytest.fixture(scope="module")
def table_session():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    endpoint = f"http://{host}:{port}"
    original = session.resource

    def resource(name, **kwargs):
        return original(name, endpoint_url=endpoint, **kwargs)

    session.resource = resource
    session.resource("dynamodb").create_table(
        TableName="costguard-test", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    yield session
    server.stop()


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
