import boto3
import pytest

from tests.moto_helpers import moto_server, reset_moto

REGION = "us-east-1"
CLUSTER = "openfaas"


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto server on loopback for this module; AWS_ENDPOINT_URL points every boto3 client at it."""
    with moto_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        yield endpoint


@pytest.fixture
def session(moto_endpoint):
    """A clean account with the EKS cluster costguard manages."""
    reset_moto(moto_endpoint)
    aws = boto3.session.Session(region_name=REGION)
    aws.client("eks").create_cluster(name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks",
                                     resourcesVpcConfig={"subnetIds": []})
    return aws
