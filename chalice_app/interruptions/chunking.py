"""Cut one batch's blocks into Slack messages within the limits: ≤ 50 blocks each, a header on every part."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from slack_sdk.models.blocks import HeaderBlock, PlainTextObject

from chalice_app.interruptions.actions import ActionOutcome
from chalice_app.interruptions.alert import BatchCounts, Owned, batch_blocks, fallback_text, header_text
from chalice_app.interruptions.correlation import Correlation
from chalice_app.slack.message import MAX_BLOCKS, MAX_HEADER_TEXT, SlackMessage

MAX_THREAD_KEYS = 20  # a bot threads a message under the first of these instance ids that already has a thread


def split_blocks(blocks: Sequence[Owned], title: str) -> list[list[Owned]]:
    """Parts of ≤ MAX_BLOCKS blocks; parts after the first start with a "(part i/n)" header."""
    if len(blocks) <= MAX_BLOCKS:
        return [list(blocks)]
    body = list(blocks[1:]) if blocks and blocks[0][0].get("type") == "header" else list(blocks)
    per_part = MAX_BLOCKS - 1
    chunks = [body[start:start + per_part] for start in range(0, len(body), per_part)]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        label = f" (part {number}/{len(chunks)})"
        header = HeaderBlock(text=PlainTextObject(text=title[:MAX_HEADER_TEXT - len(label)] + label)).to_dict()
        parts.append([(header, frozenset()), *chunk])
    return parts


def thread_keys(correlation: Correlation) -> tuple[str, ...]:
    """Instance ids a bot threads later events under; none for a burst, where one thread would hide the rest."""
    ids = tuple(dict.fromkeys(impact.node.instance_id for impact in correlation.impacts))
    return ids if len(ids) <= MAX_THREAD_KEYS else ()


def plan_messages(correlation: Correlation, now: datetime, cluster: str, counts: BatchCounts = BatchCounts(),
                  outcomes: Sequence[ActionOutcome] = ()) -> list[tuple[SlackMessage, frozenset]]:
    """The batch's alert as Slack messages, each with the event ids it reports; [] when no node is hit.

    A notice counts as alerted once every message that reports it was accepted.
    """
    if not correlation.impacts:
        return []
    title = header_text(correlation)
    text = fallback_text(correlation)
    keys = thread_keys(correlation)
    parts = split_blocks(batch_blocks(correlation, now, cluster, counts, outcomes), title)
    planned = []
    for number, part in enumerate(parts, start=1):
        numbered = text if len(parts) == 1 else f"{text} (part {number}/{len(parts)})"
        # Only the last part may start a thread: were part 1 the root, parts 2..n would be posted as its replies.
        message = SlackMessage(text=numbered, blocks=[block for block, _ in part], thread_keys=keys,
                               opens_thread=number == len(parts))
        planned.append((message, frozenset().union(*(ids for _, ids in part))))
    return planned


def build_messages(correlation: Correlation, now: datetime, cluster: str, counts: BatchCounts = BatchCounts(),
                   outcomes: Sequence[ActionOutcome] = ()) -> list[SlackMessage]:
    return [message for message, _ in plan_messages(correlation, now, cluster, counts, outcomes)]
