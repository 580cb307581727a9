"""Slack's total-text limit: what counts, and mrkdwn escaping of untrusted values."""
from chalice_app.slack.message import (
    MAX_MESSAGE_TEXT,
    SLACK_MESSAGE_TEXT_LIMIT,
    SlackMessage,
    block_text_length,
    message_text_length,
)
from chalice_app.slack.text import escape_mrkdwn


def test_every_text_in_a_block_counts():
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "abc"},
             "fields": [{"type": "mrkdwn", "text": "de"}], "accessory": {"type": "button",
                                                                         "text": {"type": "plain_text", "text": "f"}}}
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "ghij"}]}
    assert block_text_length(block) == 6 and block_text_length(context) == 4
    assert message_text_length(SlackMessage(text="xy", blocks=[block, context])) == 12


def test_the_budget_leaves_a_margin_under_slacks_limit():
    assert MAX_MESSAGE_TEXT <= SLACK_MESSAGE_TEXT_LIMIT - 1500


def test_escape_mrkdwn_neutralises_slack_control_characters():
    assert escape_mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
