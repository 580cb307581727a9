"""boto3 clients once per container: the same client for the same service, region and environment; a new one when
the environment names another endpoint or access key (tests and the sandbox switch), or after reset_cache."""
from chalice_app import aws_clients


def test_the_same_client_is_reused_until_the_environment_or_the_cache_changes(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    first = aws_clients.client("dynamodb", "us-east-1")
    assert aws_clients.client("dynamodb", "us-east-1") is first
    assert aws_clients.client("dynamodb", "eu-west-1") is not first
    assert aws_clients.client("sqs", "us-east-1") is not first
    assert first.meta.endpoint_url == "http://127.0.0.1:1"

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    moved = aws_clients.client("dynamodb", "us-east-1")
    assert moved is not first and moved.meta.endpoint_url == "http://127.0.0.1:2"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "second")
    assert aws_clients.client("dynamodb", "us-east-1") is not moved

    table = aws_clients.resource("dynamodb", "us-east-1")
    assert aws_clients.resource("dynamodb", "us-east-1") is table
    aws_clients.reset_cache()
    assert aws_clients.resource("dynamodb", "us-east-1") is not table
    aws_clients.reset_cache()
