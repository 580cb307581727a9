"""Errors that carry a message an operator can act on, and the one translation of AWS failures into such a line."""
from __future__ import annotations

import contextlib
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError


class CostguardError(Exception):
    """Base class: the message names what was wrong and what is expected."""


class ConfigError(CostguardError):
    """A setting from the environment is missing or malformed."""


class KubeAccessError(CostguardError):
    """The cluster cannot be reached or the app's identity is not allowed to do something."""


class AwsError(CostguardError):
    """An AWS call failed in a way an operator can fix (credentials, region, permissions, a missing resource)."""


class StageTableError(CostguardError, RuntimeError):
    """The stage table did not take a write (items left unprocessed, an item that kept changing): retry the run.
    Still a RuntimeError, so callers that treated it as one keep doing so."""


_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
_BAD_CREDENTIALS = ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException")


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def explain_aws_error(error: BaseException, region: str | None = None) -> str | None:
    """One line an operator can act on for an AWS failure; None when `error` is not one."""
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION or use a profile with a region"
    if isinstance(error, EndpointConnectionError):
        where = f" in region {region!r}" if region else ""
        return f"cannot reach AWS{where} ({error}): check the region"
    if isinstance(error, ClientError):
        code, message = error_code(error), error.response.get("Error", {}).get("Message", "")
        operation = getattr(error, "operation_name", "AWS call")
        if code in _DENIED:
            return f"access denied for {operation}: {message}"
        if code in _BAD_CREDENTIALS:
            return f"AWS rejected the credentials ({code}): {message}"
        if code == "ResourceNotFoundException" and operation == "DescribeCluster":
            return f"unknown EKS cluster: {message}"
        return f"{operation} failed with {code}: {message}"
    if isinstance(error, BotoCoreError):
        return f"AWS: {error}"
    return None


@contextlib.contextmanager
def aws_errors(region: str | None = None) -> Iterator[None]:
    """AWS failures an operator can fix become an AwsError with one line naming what to fix."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise AwsError(explain_aws_error(error, region)) from None
