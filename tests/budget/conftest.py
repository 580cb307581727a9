"""The budget tests' in-process AWS: moto with the stage table (partition key `id`), as the sandbox creates it."""
import boto3
import pytest
from moto import mock_aws

from chalice_app import naming
from tests.moto_helpers import create_stage_table

STAGE = "test"


@pytest.fixture
def aws():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        create_stage_table(session.client("dynamodb"), naming.table(STAGE))
        yield session
