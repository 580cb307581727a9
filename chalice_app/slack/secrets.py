"""The Slack secrets (webhook URL, bot token, signing secret) from SSM: the one function that reads them."""
from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from chalice_app.config import Settings
from chalice_app.errors import ConfigError


def read_secret(name: str, settings: Settings) -> str:
    """A SecureString parameter, decrypted and cached for `parameter_cache_seconds`; never put in a message."""
    try:
        value = parameters.get_parameter(name, decrypt=True, max_age=settings.parameter_cache_seconds)
    except GetParameterError as error:
        raise ConfigError(f"SSM parameter {name}: cannot be read ({type(error.__cause__ or error).__name__})") from None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"SSM parameter {name}: empty")
    return value.strip()
