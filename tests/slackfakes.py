"""The one in-memory Slack for tests: a `Notifier` (chalice_app.slack.port) that records what it was given and can
be told to fail. Tests that need Slack's HTTP behaviour use the sandbox's SlackReceiver instead."""
from __future__ import annotations

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


def assert_inert(message) -> None:
    """The hostile `<!channel>` reached the message escaped, and no mention or link stayed live anywhere in it."""
    texts = message_texts({"text": message.text, "blocks": message.blocks})
    assert any("&lt;!channel&gt;" in text for text in texts)
    for text in texts:
        assert "<!" not in text and "<http" not in text, text
