"""The budget tests' in-process AWS: moto with the stage table (partition key `id`), as the sandbox creates it."""
import boto3
import pytest
from moto import mock_aws

from chalice_app import naming

STAGE = "test"


@pytest.fixture
def aws():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("dynamodb").create_table(
            TableName=naming.table(STAGE), KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        yield session
