"""Errors that carry a message an operator can act on."""


class CostguardError(Exception):
    """Base class: the message names what was wrong and what is expected."""


class ConfigError(CostguardError):
    """A setting from the environment is missing or malformed."""


class KubeAccessError(CostguardError):
    """The cluster cannot be reached or the app's identity is not allowed to do something."""
