"""Shared fixtures of the interruption tests."""
import boto3
import pytest
from moto import mock_aws

from tests.interruptions import factories as f

TABLE = "costguard-interruptions-test"


@pytest.fixture
def dynamodb():
    """A stage-shaped table (partition key `id`) on in-process moto; yields the client."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=f.REGION)
        client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client
