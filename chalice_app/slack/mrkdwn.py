"""Escaping for Slack mrkdwn: the one place untrusted text (cluster names, Slack input) is made inert.

Slack reads `&`, `<` and `>` as control characters (links, mentions, `<!channel>`), and asks apps to escape exactly
these three as HTML entities (https://api.slack.com/reference/surfaces/formatting#escaping). Backticks are removed
from code spans so a value cannot close the span it is shown in.
"""
from __future__ import annotations

from chalice_app.slack.message import escape_mrkdwn

MAX_SHOWN = 200  # a value longer than this is cut: a name in a message, not a payload


def escape(value: object) -> str:
    return escape_mrkdwn(str(value)[:MAX_SHOWN])


def code(value: object) -> str:
    """`value` as an inline code span, escaped."""
    return f"`{escape(value).replace('`', chr(39))}`"
