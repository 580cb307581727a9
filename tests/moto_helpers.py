"""The tests' one way to start a moto server and one way to create the stage table (the sandbox's, which is the shape
provisioning creates). In-process tests use moto's own `mock_aws`; tests that need a real endpoint use moto_server."""
from __future__ import annotations

import contextlib
import logging
import urllib.request
from typing import Iterator

import boto3
from moto import mock_aws
from moto.server import ThreadedMotoServer

from sandbox.aws import create_stage_table

__all__ = ["create_stage_table", "moto_server", "reset_moto", "stage_table_session"]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on loopback (port chosen by the OS) for the block; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(endpoint: str) -> None:
    """Forget every resource the server holds (moto's /moto-api/reset)."""
    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset", method="POST"), timeout=10).read()


@contextlib.contextmanager
def stage_table_session(table_name: str, region: str = "us-east-1") -> Iterator[boto3.session.Session]:
    """In-process moto (`mock_aws`) with the stage table created: a boto3 session for the block."""
    with mock_aws():
        session = boto3.session.Session(region_name=region)
        create_stage_table(session.client("dynamodb"), table_name)
        yield session
