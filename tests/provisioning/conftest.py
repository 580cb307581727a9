import logging
import os
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
CLUSTER = "openfaas"


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto server on loopback for this module; AWS_ENDPOINT_URL points every boto3 client at it."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
    server.stop()


@pytest.fixture
def session(moto_endpoint):
    """A clean account with the EKS cluster costguard manages."""
    request = urllib.request.Request(moto_endpoint + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()
    aws = boto3.session.Session(region_name=REGION)
    aws.client("eks").create_cluster(name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks",
                                     resourcesVpcConfig={"subnetIds": []})
    return aws
