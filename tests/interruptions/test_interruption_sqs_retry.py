"""Failed interruption messages come back within seconds, not after the queue's 30-minute visibility timeout."""
import json

import boto3
import moto.sqs.models as moto_sqs
import pytest
from botocore.exceptions import ClientError

from chalice_app.config import load_settings
from chalice_app.interruptions import handler
from chalice_app.interruptions.sqs_batch import BatchItemsFailed, hasten_retries, retry_visibility_seconds
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.interruptions.test_interruption_batch import snapshot_reader, ledger, ports  # noqa: F401
from tests.slackfakes import RecordingNotifier

QUEUE_TIMEOUT = "1800"


def _queue_with(sqs, bodies):
    url = sqs.create_queue(QueueName="costguard-test-interruptions",
                           Attributes={"VisibilityTimeout": QUEUE_TIMEOUT})["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))
    received = []
    while len(received) < len(bodies):  # SQS hands out at most 10 at a time
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                        AttributeNames=["ApproximateReceiveCount"])["Messages"]
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "eventSourceARN": f.QUEUE_ARN, "attributes": m["Attributes"]} for m in received]
    return url, records


def _visible_after(sqs, url, seconds, monkeypatch):
    now = moto_sqs.unix_time_millis()
    monkeypatch.setattr(moto_sqs, "unix_time_millis", lambda: now + seconds * 1000)
    return [m["MessageId"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


@pytest.mark.parametrize("receives, seconds", [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (40, 300),
                                               (None, 30), ("junk", 30)])
def test_retry_visibility_grows_with_receives_and_is_capped(receives, seconds):
    attributes = {} if receives is None else {"ApproximateReceiveCount": str(receives)}
    assert retry_visibility_seconds({"attributes": attributes}) == seconds


def test_a_failed_message_is_visible_again_after_30_seconds(ledger, monkeypatch):  # noqa: F811
    sqs = boto3.client("sqs", region_name=f.REGION)
    url, records = _queue_with(sqs, [f.spot_warning(1), "{broken"])
    spot_id = next(r["messageId"] for r in records if "broken" not in r["body"])
    settings = load_settings({"COSTGUARD_CLUSTER_NAME": "test", "COSTGUARD_TABLE_NAME": TABLE})
    with pytest.raises(BatchItemsFailed):
        handler.run({"Records": records}, None, settings, ports(ledger, RecordingNotifier(fail_after=0), snapshot_reader()),
                    sqs=sqs)
    assert _visible_after(sqs, url, 31, monkeypatch) == [spot_id]


def test_a_visibility_change_that_fails_is_logged_and_batch_items_failed_still_raised(ledger):  # noqa: F811
    sqs = boto3.client("sqs", region_name=f.REGION)
    _, records = _queue_with(sqs, [f.spot_warning(1)])

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ChangeMessageVisibilityBatch")

    sqs.change_message_visibility_batch = refuse
    settings = load_settings({"COSTGUARD_CLUSTER_NAME": "test", "COSTGUARD_TABLE_NAME": TABLE})
    with pytest.raises(BatchItemsFailed):
        handler.run({"Records": records}, None, settings, ports(ledger, RecordingNotifier(fail_after=0), snapshot_reader()),
                    sqs=sqs)


def test_hasten_retries_never_raises_and_reports_what_changed(dynamodb):
    sqs = boto3.client("sqs", region_name=f.REGION)
    _, records = _queue_with(sqs, [f.spot_warning(n) for n in range(12)])
    assert hasten_retries(sqs, records, [r["messageId"] for r in records]) == 12
    assert hasten_retries(sqs, [{**records[0], "eventSourceARN": "not-an-arn"}], [records[0]["messageId"]]) == 0
