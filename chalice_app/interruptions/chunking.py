"""Cut one batch's blocks into Slack messages within the limits: ≤ 50 blocks each, a header on every part."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from slack_sdk.models.blocks import HeaderBlock, PlainTextObject

from chalice_app.interruptions.actions import ActionOutcome
from chalice_app.interruptions.alert import BatchCounts, batch_blocks, fallback_text, header_text
from chalice_app.interruptions.correlation import Correlation
from chalice_app.slack.message import MAX_BLOCKS, MAX_HEADER_TEXT, SlackMessage

MAX_THREAD_KEYS = 20  # a bot threads a message under the first of these instance ids that already has a thread


def split_blocks(blocks: Sequence[dict], title: str) -> list[list[dict]]:
    """Parts of ≤ MAX_BLOCKS blocks; parts after the first start with a "(part i/n)" header."""
    if len(blocks) <= MAX_BLOCKS:
        return [list(blocks)]
    body = list(blocks[1:]) if blocks and blocks[0].get("type") == "header" else list(blocks)
    per_part = MAX_BLOCKS - 1
    chunks = [body[start:start + per_part] for start in range(0, len(body), per_part)]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        label = f" (part {number}/{len(chunks)})"
        header = HeaderBlock(text=PlainTextObject(text=title[:MAX_HEADER_TEXT - len(label)] + label)).to_dict()
        parts.append([header, *chunk])
    return parts


def thread_keys(correlation: Correlation) -> tuple[str, ...]:
    """Instance ids a bot threads later events under; none for a burst, where one thread would hide the rest."""
    ids = tuple(dict.fromkeys(impact.node.instance_id for impact in correlation.impacts))
    return ids if len(ids) <= MAX_THREAD_KEYS else ()


def build_messages(correlation: Correlation, now: datetime, cluster: str, counts: BatchCounts = BatchCounts(),
                   outcomes: Sequence[ActionOutcome] = ()) -> list[SlackMessage]:
    """The batch's alert as Slack messages; [] when no node of this cluster is hit (nothing to tell)."""
    if not correlation.impacts:
        return []
    title = header_text(correlation)
    text = fallback_text(correlation)
    keys = thread_keys(correlation)
    parts = split_blocks(batch_blocks(correlation, now, cluster, counts, outcomes), title)
    return [SlackMessage(text=text if len(parts) == 1 else f"{text} (part {number}/{len(parts)})", blocks=part,
                         thread_keys=keys)
            for number, part in enumerate(parts, start=1)]
