"""The message every feature hands to a notifier: Block Kit blocks plus the fallback text, and Slack's limits."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
# chat.postMessage answers `msg_blocks_too_long` once the blocks' text passes about 12,000 characters, far below
# 50 blocks × 3,000 (slackapi/bolt-js#2509, #2867). Messages are cut at this total, blocks' text and fallback text
# together, leaving a margin for what Slack counts that we do not (escapes, date tokens expanded).
SLACK_MESSAGE_TEXT_LIMIT = 12_000
MAX_MESSAGE_TEXT = 10_000


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification / fallback text, shown where blocks are not
    blocks: list[dict] = field(default_factory=list)  # Block Kit, as dicts (slack_sdk.models.blocks ... .to_dict())
    # With a bot token, messages with the same key thread under the first one (e.g. an instance id);
    # a webhook cannot thread, so the renderer names the key in the text instead.
    thread_keys: tuple[str, ...] = ()
    # False for every part of a multi-part alert but the last: such a part joins a thread its keys already have,
    # but is never remembered as a new root, so the alert's later parts are not hidden as replies to part 1.
    opens_thread: bool = True


def _texts(value) -> Iterable[str]:
    """Every `text` string inside a block (header, section text and fields, context elements, buttons…)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            else:
                yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


def block_text_length(block: dict) -> int:
    return sum(len(text) for text in _texts(block))


def message_text_length(message: SlackMessage) -> int:
    """What counts toward Slack's total: the blocks' text plus the fallback text."""
    return len(message.text) + sum(block_text_length(block) for block in message.blocks)
