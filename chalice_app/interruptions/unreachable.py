"""The alert when the Kubernetes API does not answer (issue 12): what the events themselves say, sent at once.

A spot warning gives two minutes; the correlation (node, NodePool, functions) needs the cluster. When the cluster
read fails after the client's retries, the batch sends this brief alert (kind, instance, deadline, region, marked
"cluster unreachable") and leaves the messages failed, so SQS brings them back at the short visibility; the retry
that reaches the API sends the full alert, which a bot posts in the brief alert's thread (same thread keys).

The brief alert has its own idempotency record (`<event id>#unreachable`), so each retry while the API stays down
does not send it again. Pure: notices + clock → message.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Sequence


from chalice_app.interruptions.alert import KIND_TITLES, date_token
from chalice_app.interruptions.notice import Notice, NoticeKind
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_HEADER_TEXT, SlackMessage
from chalice_app.slack.text import clip, code, escape, fit_lines, fit_words

BRIEF_SUFFIX = "#unreachable"
MAX_THREAD_KEYS = 20
UNREACHABLE = "cluster unreachable"


def brief_notice(notice: Notice) -> Notice:
    """The idempotency identity of the brief alert about `notice` (the full alert keeps the event's own id)."""
    return dataclasses.replace(notice, event_id=notice.event_id + BRIEF_SUFFIX)


def _title(kind: NoticeKind) -> str:
    return KIND_TITLES.get(kind, kind.value)


def notice_line(notice: Notice) -> str:
    deadline = f", deadline {date_token(notice.deadline)}" if notice.deadline else ""
    instances = fit_words([code(i) for i in notice.instance_ids], 600, "instances")
    return f"• {escape(_title(notice.kind))}: {instances} in {escape(notice.region)}{deadline}"


def unreachable_message(notices: Sequence[Notice], cluster: str, now: datetime) -> SlackMessage:
    """One message for the notices of a batch whose cluster could not be read."""
    ids = list(dict.fromkeys(i for notice in notices for i in notice.instance_ids))
    header = clip(f"{len(notices)} interruption notice{'s' if len(notices) != 1 else ''} — {UNREACHABLE}",
                  MAX_HEADER_TEXT)
    body = fit_lines([notice_line(notice) for notice in notices], noun="more notices")
    context = (f"Cluster {code(cluster)}: the Kubernetes API did not answer, so nodes, NodePools and functions are "
               f"not known yet; they follow in this thread once it answers. {date_token(now)}")
    blocks = [kit.HeaderBlock(text=kit.PlainTextObject(text=header)),
              kit.SectionBlock(text=kit.MarkdownTextObject(text=body)),
              kit.ContextBlock(elements=[kit.MarkdownTextObject(text=context)])]
    text = f"{UNREACHABLE}: " + fit_words(ids, 600, "instances")
    return SlackMessage(text=text, blocks=[block.to_dict() for block in blocks],
                        thread_keys=tuple(ids[:MAX_THREAD_KEYS]), opens_thread=True)
