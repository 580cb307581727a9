"""The one in-memory Slack for tests: a `Notifier` (chalice_app.slack.port) that records what it was given and can
be told to fail. Tests that need Slack's HTTP behaviour use the sandbox's SlackReceiver instead."""
from __future__ import annotations

import re

from chalice_app.slack.message import SlackMessage
from chalice_app.slack.port import SendResult, SlackDeliveryError


class RecordingNotifier:
    """Records sent messages. `fail_after`: sends that succeed before failures start (None: never fail);
    `failures`: how many sends then fail (None: all of them); `error`: what a failing send raises."""

    def __init__(self, fail_after: int | None = None, failures: int | None = None,
                 error: Exception | None = None):
        self.sent: list[SlackMessage] = []
        self.fail_after = fail_after
        self.failures = failures
        self.error = error or SlackDeliveryError("Slack webhook refused the message: HTTP 500")

    @property
    def texts(self) -> list[str]:
        return [message.text for message in self.sent]

    def send(self, message: SlackMessage) -> SendResult:
        if self.fail_after is not None and len(self.sent) >= self.fail_after and self.failures != 0:
            if self.failures is not None:
                self.failures -= 1
            raise self.error
        self.sent.append(message)
        return SendResult(via="test")


def message_texts(payload) -> list[str]:
    """Every string in a Slack payload (fallback text, blocks, nested elements)."""
    if isinstance(payload, dict):
        return [text for value in payload.values() for text in message_texts(value)]
    if isinstance(payload, list):
        return [text for value in payload for text in message_texts(value)]
    return [payload] if isinstance(payload, str) else []


# Slack's live control sequences (https://api.slack.com/reference/surfaces/formatting): special mentions
# (`<!channel>`, `<!here>`, `<!subteam^…>`), user and channel mentions, links. `<!date^…>` is the one costguard writes.
LIVE = re.compile(r"<(?!!date\^)(?:!|@|#|https?:|mailto:)")


def assert_inert(message) -> None:
    """The hostile `<!channel>` reached the message escaped, and no mention or link stayed live anywhere in it."""
    texts = message_texts({"text": message.text, "blocks": message.blocks})
    assert any("&lt;!channel&gt;" in text for text in texts)
    for text in texts:
        assert not LIVE.search(text), text


# A value that is a channel-wide mention, a user mention, a link and a bare `&` at once: put into every field that
# may reach Slack, it must arrive escaped (issue 12, Deliver 4).
HOSTILE = "<!channel> <@U0HOSTILE> <https://evil.example|click here> &"
HOSTILE_ESCAPED = "&lt;!channel&gt; &lt;@U0HOSTILE&gt; &lt;https://evil.example|click here&gt; &amp;"
_HOSTILE_LIVE = ("<!channel", "<@u0hostile", "<https://evil.example")


def rendered_texts(payload) -> list[str]:
    """Every string Slack renders in a payload: its top-level `text` and the `text` of every block, field, element
    and button, wherever it is nested (the walk covers block types costguard does not use yet)."""
    if isinstance(payload, dict):
        return [text for key, value in payload.items()
                for text in ([value] if key == "text" and isinstance(value, str) else rendered_texts(value))]
    if isinstance(payload, list):
        return [text for value in payload for text in rendered_texts(value)]
    return []


def assert_hostile_inert(payloads, reached: bool = True) -> list[str]:
    """No part of HOSTILE is live in any rendered text of these payloads (SlackMessages or answer dicts), and
    (`reached`) it did reach them, escaped. Case-insensitive, as some fields are lowercased on the way."""
    texts = [text for payload in payloads for text in rendered_texts(
        {"text": payload.text, "blocks": payload.blocks} if isinstance(payload, SlackMessage) else payload)]
    assert texts
    assert not reached or any("&lt;!channel&gt;" in text for text in texts), texts
    for text in texts:
        for live in _HOSTILE_LIVE:
            assert live not in text.lower(), (live, text)
    return texts
