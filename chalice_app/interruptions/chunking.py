"""Cut one batch's blocks into Slack messages within Slack's limits: ≤ 50 blocks and ≤ MAX_MESSAGE_TEXT characters
of text (blocks and fallback together) each, a header on every part. Also the batch's follow-ups: the actions taken
after the alert, and the end of a maintenance thread."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence


from chalice_app.interruptions.actions import ActionOutcome
from chalice_app.interruptions.alert import (
    BatchCounts,
    Owned,
    actions_section,
    batch_blocks,
    date_token,
    fallback_text,
    header_text,
)
from chalice_app.interruptions.correlation import Correlation, NodeImpact
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    SlackMessage,
    block_text_length,
)
from chalice_app.slack.text import escape_mrkdwn, fit_lines

MAX_THREAD_KEYS = 20  # a bot threads a message under the first of these instance ids that already has a thread


PART_LABEL_ROOM = len(" (part 99/99)")


def split_blocks(blocks: Sequence[Owned], title: str, text_budget: int = MAX_MESSAGE_TEXT) -> list[list[Owned]]:
    """Parts of ≤ MAX_BLOCKS blocks and ≤ `text_budget` characters of block text; parts after the first start with
    a "(part i/n)" header. One block never exceeds the budget (sections are ≤ 3,000 characters)."""
    total = sum(block_text_length(block) for block, _ in blocks)
    if len(blocks) <= MAX_BLOCKS and total <= text_budget:
        return [list(blocks)]
    body = list(blocks[1:]) if blocks and blocks[0][0].get("type") == "header" else list(blocks)
    room = text_budget - min(len(title), MAX_HEADER_TEXT) - PART_LABEL_ROOM
    chunks: list[list[Owned]] = [[]]
    size = 0
    for owned in body:
        length = block_text_length(owned[0])
        if chunks[-1] and (len(chunks[-1]) >= MAX_BLOCKS - 1 or size + length > room):
            chunks.append([])
            size = 0
        chunks[-1].append(owned)
        size += length
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        label = f" (part {number}/{len(chunks)})"
        header = kit.HeaderBlock(text=kit.PlainTextObject(text=title[:MAX_HEADER_TEXT - len(label)] + label)).to_dict()
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
    budget = MAX_MESSAGE_TEXT - len(text) - PART_LABEL_ROOM
    parts = split_blocks(batch_blocks(correlation, now, cluster, counts, outcomes), title, budget)
    planned = []
    for number, part in enumerate(parts, start=1):
        numbered = text if len(parts) == 1 else f"{text} (part {number}/{len(parts)})"
        # Only the last part may start a thread: were part 1 the root, parts 2..n would be posted as its replies.
        message = SlackMessage(text=numbered, blocks=[block for block, _ in part], thread_keys=keys,
                               opens_thread=number == len(parts))
        planned.append((message, frozenset().union(*(ids for _, ids in part))))
    return planned


def actions_message(outcomes: Sequence[ActionOutcome], keys: tuple[str, ...]) -> SlackMessage | None:
    """What was done to the nodes after the alert left: a reply in the instances' thread (bot) or its own post."""
    section = actions_section(outcomes)
    if section is None:
        return None
    nodes = len(outcomes)
    verb = "would act" if all(outcome.dry_run for outcome in outcomes) else "acted"
    text = f"Interruption follow-up: costguard {verb} on {nodes} node{'s' if nodes != 1 else ''}"
    return SlackMessage(text=text, blocks=[section.to_dict()], thread_keys=keys, opens_thread=False)


def closed_messages(closed: Sequence[NodeImpact], cluster: str) -> list[tuple[SlackMessage, frozenset]]:
    """AWS Health closed the maintenance of instances costguard alerted on: a reply in each instance's thread, or,
    for more than MAX_THREAD_KEYS instances, one message naming them all (never a flood of replies)."""
    def line(impact: NodeImpact) -> str:
        when = f" (ended {date_token(impact.notice.deadline)})" if impact.notice.deadline else ""
        return f"*{impact.node.instance_id}* · `{escape_mrkdwn(impact.node.name)}`{when}"

    def message(members: Sequence[NodeImpact], keys: tuple[str, ...]) -> tuple[SlackMessage, frozenset]:
        title = (f":white_check_mark: Scheduled maintenance closed by AWS Health in cluster "
                 f"{escape_mrkdwn(cluster)} for {len(members)} instance{'s' if len(members) != 1 else ''}")
        section = kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines([title, *map(line, members)], noun="more")))
        ids = frozenset().union(*(impact.ids for impact in members))
        text = "Scheduled maintenance closed: " + ", ".join(impact.node.instance_id for impact in members[:5])
        text += f" and {len(members) - 5} more" if len(members) > 5 else ""
        return SlackMessage(text=text, blocks=[section.to_dict()], thread_keys=keys, opens_thread=False), ids

    if len(closed) > MAX_THREAD_KEYS:
        return [message(closed, ())]
    return [message([impact], (impact.node.instance_id,)) for impact in closed]
