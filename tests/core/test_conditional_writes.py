"""The one conditional-write helper (chalice_app/conditional.py) on moto's DynamoDB: botocore's typed exceptions."""
import pytest
from botocore.exceptions import ClientError

from chalice_app.conditional import condition_held, put_if_absent, transaction_held
from tests.moto_helpers import stage_table_session


@pytest.fixture
def table():
    with stage_table_session("costguard-test") as session:
        yield session.resource("dynamodb").Table("costguard-test")


def test_put_if_absent_claims_once(table):
    assert put_if_absent(table, {"id": "alert#x", "expiration": 1}) is True
    assert put_if_absent(table, {"id": "alert#x", "expiration": 2}) is False
    assert table.get_item(Key={"id": "alert#x"})["Item"]["expiration"] == 1


def test_failed_condition_is_false_and_other_errors_raise(table):
    client = table.meta.client
    missing = lambda: table.put_item(Item={"id": "a"}, ConditionExpression="attribute_exists(id)")  # noqa: E731
    assert condition_held(client, missing) is False
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        condition_held(client, lambda: client.put_item(TableName="no-such-table", Item={"id": {"S": "a"}}))


def test_cancelled_transaction_is_false(table):
    client = table.meta.client  # a resource's client takes plain values (boto3 serializes them)
    put = {"Put": {"TableName": "costguard-test", "Item": {"id": "t"},
                   "ConditionExpression": "attribute_not_exists(id)"}}
    assert transaction_held(client, lambda: client.transact_write_items(TransactItems=[put])) is True
    assert transaction_held(client, lambda: client.transact_write_items(TransactItems=[put])) is False
