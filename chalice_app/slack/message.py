"""The message every feature hands to a notifier: Block Kit blocks plus the fallback text."""
from __future__ import annotations

from dataclasses import dataclass, field

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150


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
