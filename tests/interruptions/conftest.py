"""Shared fixtures of the interruption tests."""
import boto3
import pytest
from moto import mock_aws

from tests.interruptions import factories as f
from tests.moto_helpers import create_stage_table

TABLE = "costguard-interruptions-test"


@pytest.fixture
def dynamodb():
    """A stage-shaped table (partition key `id`) on in-process moto; yields the client."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=f.REGION)
        create_stage_table(client, TABLE)
        yield client


@pytest.fixture(scope="module")
def sb():
    """A loopback sandbox with the stage's queue and rules, one per test module (the end-to-end tests)."""
    from chalice_app.provisioning import ensure_stage
    from sandbox import CLUSTER_NAME, Sandbox
    with Sandbox(functions=20, nodes=6) as sandbox:
        ensure_stage(sandbox.session(), sandbox.stage, cluster_name=CLUSTER_NAME)
        yield sandbox
