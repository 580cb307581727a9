"""The one SSM reader: budget document, allow-list, Slack secrets. Powertools' parameters utility caches each value in
the Lambda container for `settings.parameter_cache_seconds`, so a warm container does not call SSM on every event."""
from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from chalice_app.config import Settings
from chalice_app.errors import ConfigError


class ParameterError(ConfigError):
    """An SSM parameter the app needs cannot be read or is empty."""


def read_parameter(name: str, settings: Settings, session=None) -> str:
    """The parameter's text (String, or SecureString decrypted). Without a session, Powertools' default provider
    reads it (and caches it per container); with one, a provider on that session's SSM client."""
    value: object
    try:
        if session is None:
            value = parameters.get_parameter(name, decrypt=True, max_age=settings.parameter_cache_seconds)
        else:
            provider = parameters.SSMProvider(boto3_client=session.client("ssm", region_name=settings.region))
            value = provider.get(name, decrypt=True, max_age=settings.parameter_cache_seconds)
    except GetParameterError as error:
        cause = error.__cause__ or error.__context__ or error  # Powertools raises it inside its except
        code = getattr(cause, "response", {}).get("Error", {}).get("Code", type(cause).__name__)
        raise ParameterError(f"SSM parameter {name} cannot be read ({code})") from None
    if not isinstance(value, str):
        raise ParameterError(f"SSM parameter {name}: not text")
    return value


def read_secret(name: str, settings: Settings) -> str:
    """A secret (webhook URL, token, signing secret, allow-list): non-empty, surrounding whitespace removed."""
    value = read_parameter(name, settings).strip()
    if not value:
        raise ParameterError(f"SSM parameter {name}: empty")
    return value
