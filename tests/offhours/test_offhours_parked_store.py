"""The restore records in a real DynamoDB API (moto server on loopback): conditional, batched, never overwritten."""
from datetime import datetime, timezone

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chalice_app.offhours.parked import DynamoParkedStore, ParkedFunction, function_id
from sandbox.aws import create_stage_table

NOW = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def client():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    dynamodb = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    create_stage_table(dynamodb, "costguard-parked")
    yield dynamodb
    server.stop()


def test_records_round_trip_in_batches_and_are_never_overwritten(client):
    store = DynamoParkedStore("costguard-parked", client=client)
    items = {function_id("fn", f"f{i}"): ParkedFunction(i % 7, f"uid-{i}", NOW.isoformat()).item() for i in range(230)}
    assert store.put_new(items, NOW) == set(items)  # 3 transactions of at most 100
    again = {key: ParkedFunction(99).item() for key in list(items)[:3]}
    again[function_id("fn", "fresh")] = ParkedFunction(4).item()
    assert store.put_new(again, NOW) == {function_id("fn", "fresh")}  # the evening counts stand
    found = store.get_many([*items, function_id("fn", "absent")])
    assert len(found) == 230
    assert ParkedFunction.from_item(found[function_id("fn", "f12")]) == ParkedFunction(5, "uid-12", NOW.isoformat())
    assert int(found[function_id("fn", "f0")]["expiration"]) > NOW.timestamp()
    store.delete_many(list(items)[:60])
    assert len(store.get_many(items)) == 170


def test_a_note_is_claimed_once_a_day(client):
    store = DynamoParkedStore("costguard-parked", client=client)
    assert store.claim_note("ce", NOW) is True
    assert store.claim_note("ce", NOW) is False
    store.release_note("ce", NOW)
    assert store.claim_note("ce", NOW) is True
