"""The one parser for counts read from untrusted text (annotations, labels, CLI input, table items).

`str.isdigit()` accepts Unicode digits (`²`, `٣`) that `int()` then refuses, and `int()` accepts a 5,000-digit
number that takes time to convert and overflows every bound downstream. A count here is ASCII digits only, at most
a few characters long, and never above the caller's maximum.
"""
from __future__ import annotations

from chalice_app.errors import CostguardError

MAX_DIGITS = 10  # enough for 2**31 - 1 (Kubernetes' int32 replicas); longer text is refused before int()


class CountError(CostguardError, ValueError):
    """Text that is not a whole number from 0 to the allowed maximum; the message names what was read."""


def shown(value: object, limit: int = 60) -> str:
    """A value quoted for an error message, shortened so a huge annotation cannot flood a log line or Slack."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_count(text: object, maximum: int, what: str) -> int:
    """`text` as a whole number 0..maximum (surrounding spaces allowed); CountError naming `what` otherwise."""
    stripped = text.strip() if isinstance(text, str) else ""
    if not (stripped and len(stripped) <= MAX_DIGITS and stripped.isascii() and stripped.isdigit()):
        raise CountError(f"{what}: expected a whole number from 0 to {maximum}, got {shown(text)}")
    value = int(stripped)
    if value > maximum:
        raise CountError(f"{what}: {value} is above the maximum of {maximum}")
    return value


def count_or_none(text: object, maximum: int) -> int | None:
    """A count when `text` is one, None when it is absent or not (for optional hints such as labels)."""
    try:
        return parse_count(text, maximum, "count")
    except CountError:
        return None
