"""Block Kit as readable terminal text, for the demo and the CLI (what the Slack message would say).

Pure: a message in, a string out. Slack's mrkdwn tokens are resolved the way the Slack client shows them:
`<!date^...>` becomes a time (in UTC unless a zone is given), links become "label (url)", mentions "@name".
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone, tzinfo
from typing import Iterable

from chalice_app.slack.message import SlackMessage

DIVIDER = "─" * 40
_TOKEN = re.compile(r"<([^<>]+)>")
_DATE_FORMAT_TOKEN = re.compile(r"\{(date_num|date_short_pretty|date_long_pretty|date_pretty|date_short|date_long|"
                                r"date|time_secs|time|ago)\}")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(moment: datetime, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    middle = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{middle} {'AM' if moment.hour < 12 else 'PM'}"


_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def _ago(moment: datetime, now: datetime) -> str:
    delta = int((now - moment).total_seconds())
    seconds = abs(delta)
    size, unit = next((size, unit) for size, unit in _UNITS if seconds >= size or size == 1)
    count = seconds // size
    words = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"in {words}" if delta < 0 else f"{words} ago"


def _pretty(moment: datetime, now: datetime, plain: str) -> str:
    days = (moment.date() - now.date()).days
    return {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days, plain)


def format_date_token(epoch: int, template: str, now: datetime, zone: tzinfo = timezone.utc) -> str:
    """Expand a Slack date template ("{date_short} {time}") for a Unix time, as Slack's client would."""
    moment = datetime.fromtimestamp(epoch, zone)
    local_now = now.astimezone(zone)
    date = f"{moment:%B} {_ordinal(moment.day)}, {moment.year}"
    date_short = f"{moment:%b} {moment.day}, {moment.year}"
    date_long = f"{moment:%A}, {date}"
    values = {
        "date_num": f"{moment:%Y-%m-%d}",
        "date": date,
        "date_short": date_short,
        "date_long": date_long,
        "date_pretty": _pretty(moment, local_now, date),
        "date_short_pretty": _pretty(moment, local_now, date_short),
        "date_long_pretty": _pretty(moment, local_now, date_long),
        "time": _clock(moment, seconds=False),
        "time_secs": _clock(moment, seconds=True),
        "ago": _ago(moment, local_now),
    }
    return _DATE_FORMAT_TOKEN.sub(lambda match: values[match.group(1)], template)


def _resolve_token(body: str, now: datetime, zone: tzinfo) -> str:
    target, _, label = body.partition("|")
    if target.startswith("!date^"):
        # <!date^EPOCH^TEMPLATE^optional_link|fallback>
        parts = target.split("^")
        try:
            return format_date_token(int(parts[1]), parts[2], now, zone)
        except (IndexError, ValueError):
            return label or body
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        return "@" + (label or target[1:])
    if target[:1] in "@#":
        return (target[0] + label) if label else target
    return f"{label} ({target})" if label and label != target else target


def mrkdwn_to_text(text: str, now: datetime | None = None, zone: tzinfo = timezone.utc) -> str:
    """Resolve Slack's angle-bracket tokens and HTML escapes; *bold* and _italic_ marks stay as typed."""
    now = now or datetime.now(timezone.utc)
    resolved = _TOKEN.sub(lambda match: _resolve_token(html.unescape(match.group(1)), now, zone), text)
    return html.unescape(resolved)


def _text_of(obj: dict | None, now: datetime, zone: tzinfo) -> str:
    if not obj:
        return ""
    text = obj.get("text", "")
    return mrkdwn_to_text(text, now, zone) if obj.get("type") == "mrkdwn" else html.unescape(text)


def _element_text(element: dict, now: datetime, zone: tzinfo) -> str:
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return _text_of(element, now, zone)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "button":
        return f"[{_text_of(element.get('text'), now, zone)}]"
    return f"[{kind}]"


def _rich_text(block: dict) -> str:
    lines: list[str] = []
    for section in block.get("elements", []):
        pieces = [piece.get("text") or piece.get("url") or piece.get("name") or "" for piece in
                  section.get("elements", [])]
        lines.append("".join(pieces))
    return "\n".join(lines)


def _block_lines(block: dict, now: datetime, zone: tzinfo) -> Iterable[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text"), now, zone)
        yield title
        yield "=" * len(title)
    elif kind == "section":
        if block.get("text"):
            yield _text_of(block["text"], now, zone)
        for cell in block.get("fields", []):
            yield "  " + _text_of(cell, now, zone).replace("\n", "  ")
        if block.get("accessory"):
            yield "  " + _element_text(block["accessory"], now, zone)
    elif kind == "divider":
        yield DIVIDER
    elif kind == "context":
        yield " · ".join(_element_text(element, now, zone) for element in block.get("elements", []))
    elif kind == "actions":
        yield "  ".join(_element_text(element, now, zone) for element in block.get("elements", []))
    elif kind == "image":
        yield f"[image: {block.get('alt_text', '')}]"
    elif kind == "rich_text":
        yield _rich_text(block)
    else:
        yield f"[{kind} block]"


def to_text(message: SlackMessage, now: datetime | None = None, zone: tzinfo = timezone.utc) -> str:
    """The message as a terminal would show it: its blocks, or its fallback text when it has none."""
    now = now or datetime.now(timezone.utc)
    if not message.blocks:
        return mrkdwn_to_text(message.text, now, zone)
    lines: list[str] = []
    for block in message.blocks:
        lines.extend(_block_lines(block, now, zone))
    return "\n".join(lines)
