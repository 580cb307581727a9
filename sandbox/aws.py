"""Fake AWS for the sandbox: a moto server on 127.0.0.1 (random port) and boto3 sessions pointed at it.

moto keeps its state in process-wide backends, so `start()` resets them: one sandbox per process at a time.
"""
from __future__ import annotations

import logging
import os
import urllib.request

import boto3
from moto.server import ThreadedMotoServer

from sandbox.service import Service

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
SECRET_KEY = "sandbox-secret"
APP_ACCESS_KEY = "costguard-app"  # the app's identity; the fake Kubernetes API maps it to user `costguard`
ADMIN_ACCESS_KEY = "sandbox-admin"  # seeding and test set-up; `system:masters` in the fake Kubernetes API
# Any AMI id is accepted by moto; this one only has to look like the EKS-optimised AL2023 image.
NODE_AMI_ID = "ami-0a1b2c3d4e5f60718"


class SandboxSession(boto3.session.Session):
    """A boto3 Session whose clients and resources talk to the sandbox's moto server unless told otherwise.
    (EKS tokens presign on the real STS host by design — see chalice_app.kube.auth — and presigning sends nothing.)"""

    def __init__(self, endpoint: str, **kwargs):
        super().__init__(**kwargs)
        self.endpoint = endpoint

    def client(self, service_name, *args, **kwargs):
        kwargs.setdefault("endpoint_url", self.endpoint)
        return super().client(service_name, *args, **kwargs)

    def resource(self, *args, **kwargs):
        kwargs.setdefault("endpoint_url", self.endpoint)
        return super().resource(*args, **kwargs)


class FakeAws(Service):
    def __init__(self, region: str = REGION):
        self.region = region
        self._server: ThreadedMotoServer | None = None
        self.endpoint = ""

    def start(self) -> "FakeAws":
        # moto's server logs every request through werkzeug; the sandbox's output should stay readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto's EC2 backend otherwise loads ~1,300 public AMIs on every reset (about a second); none are used.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        from sandbox.moto_fixes import import_apis_as_aws_does

        import_apis_as_aws_does()  # so `chalice deploy` of the Slack route works on moto as on AWS
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.reset()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


    def reset(self) -> None:
        """Forget every resource (moto's backends are shared by every server in the process)."""
        request = urllib.request.Request(self.endpoint + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def session(self, access_key: str = ADMIN_ACCESS_KEY) -> SandboxSession:
        return SandboxSession(self.endpoint, aws_access_key_id=access_key, aws_secret_access_key=SECRET_KEY,
                              region_name=self.region)

    def client(self, service: str, access_key: str = ADMIN_ACCESS_KEY):
        return self.session(access_key).client(service)

    def environment(self, access_key: str = APP_ACCESS_KEY) -> dict[str, str]:
        """What a process needs in its environment to use this fake AWS as `access_key`."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }


def create_stage_table(dynamodb, table_name: str) -> None:
    """The stage table as provisioning makes it: partition key `id` (S), on-demand, TTL on `expiration`."""
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )


def create_eks_cluster(eks, cluster_name: str, endpoint: str | None = None, ca_data: str | None = None) -> None:
    """A cluster whose eks:DescribeCluster names `endpoint` and `ca_data` (base64 PEM), as EKS describes its API
    server, so the app and `costguard kubeconfig` find the fake API the way they find EKS."""
    eks.create_cluster(
        name=cluster_name,
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{cluster_name}-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )
    if endpoint is not None:
        describe_cluster_as(cluster_name, eks.meta.region_name, endpoint, ca_data)


def describe_cluster_as(cluster_name: str, region: str, endpoint: str, ca_data: str | None) -> None:
    """moto makes up an endpoint and a random CA and has no API to change them; its server runs in this process,
    so the cluster record in moto's EKS backend is set directly."""
    from moto.eks.models import eks_backends

    cluster = eks_backends[ACCOUNT_ID][region].clusters[cluster_name]
    cluster.endpoint = endpoint
    cluster.certificate_authority = {"data": ca_data or ""}


def launch_instances(ec2, instance_type: str, zone: str, count: int, tags: dict[str, str]) -> list[dict]:
    """Start `count` instances of one type in one zone with common tags; moto's instance dicts, in order."""
    launched: list[dict] = []
    remaining = count
    while remaining:
        batch = min(remaining, 500)
        response = ec2.run_instances(
            ImageId=NODE_AMI_ID, MinCount=batch, MaxCount=batch, InstanceType=instance_type,
            Placement={"AvailabilityZone": zone},
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}],
        )
        launched.extend(response["Instances"])
        remaining -= batch
    return launched


def tag_instance(ec2, instance_id: str, tags: dict[str, str]) -> None:
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": key, "Value": value} for key, value in tags.items()])
