"""The restore records in a real DynamoDB API (moto server on loopback): conditional, batched, never overwritten."""
from datetime import datetime, timezone

import boto3
import pytest

from chalice_app.offhours.parked import DynamoParkedStore, ParkedFunction
from chalice_app.table_keys import SHARDS, function_id, shard_id
from tests.moto_helpers import create_stage_table, moto_server

NOW = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def client():
    with moto_server() as endpoint:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        create_stage_table(dynamodb, "costguard-parked")
        yield dynamodb


def test_records_round_trip_in_batches_and_are_never_overwritten(client):
    store = DynamoParkedStore("costguard-parked", client=client)
    items = {function_id("fn", f"f{i}"): ParkedFunction(i % 7, f"uid-{i}", NOW.isoformat()).item() for i in range(230)}
    assert store.put_new(items, NOW) == set(items)
    again = {key: ParkedFunction(99).item() for key in list(items)[:3]}
    again[function_id("fn", "fresh")] = ParkedFunction(4).item()
    assert store.put_new(again, NOW) == {function_id("fn", "fresh")}  # the evening counts stand
    found = store.get_many([*items, function_id("fn", "absent")])
    assert len(found) == 230
    assert ParkedFunction.from_item(found[function_id("fn", "f12")]) == ParkedFunction(5, "uid-12", NOW.isoformat())
    shard = client.get_item(TableName="costguard-parked", Key={"id": {"S": shard_id("fn", "f0")}})["Item"]
    assert int(shard["expiration"]["N"]) > NOW.timestamp()
    store.delete_many(list(items)[:60])
    assert len(store.get_many(items)) == 170
    assert len(DynamoParkedStore("costguard-parked", client=client).get_many(items)) == 170


def test_two_runs_writing_the_same_shard_keep_each_others_records(client):
    first, second = (DynamoParkedStore("costguard-parked", client=client) for _ in range(2))
    names = [f"g{i}" for i in range(3 * SHARDS)]
    first.get_many(function_id("race", name) for name in names)
    second.get_many(function_id("race", name) for name in names)  # both read the same (empty) shards
    assert first.put_new({function_id("race", n): ParkedFunction(1).item() for n in names[::2]}, NOW)
    assert second.put_new({function_id("race", n): ParkedFunction(2).item() for n in names[1::2]}, NOW)
    found = DynamoParkedStore("costguard-parked", client=client).get_many(function_id("race", n) for n in names)
    assert {key: item["replicas"] for key, item in found.items()} == {
        function_id("race", n): 1 + index % 2 for index, n in enumerate(names)}


def test_a_note_is_claimed_once_a_day(client):
    store = DynamoParkedStore("costguard-parked", client=client)
    assert store.claim_note("ce", NOW) is True
    assert store.claim_note("ce", NOW) is False
    store.release_note("ce", NOW)
    assert store.claim_note("ce", NOW) is True
