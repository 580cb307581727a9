"""Slack text: the one home for escaping untrusted values and for fitting text under Slack's character limits.

Escaping: Slack reads `&`, `<` and `>` as control characters (links, mentions, `<!channel>`), and asks apps to
escape exactly these three as HTML entities (https://api.slack.com/reference/surfaces/formatting#escaping).
Backticks are removed from code spans so a value cannot close the span it is shown in.

Fitting: lists are cut at line (or item) boundaries only, and always end by saying how many were left out
("…and 12 more"), so nothing is dropped silently. A single line that must be shortened (a header, a fallback)
ends with "…".
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from chalice_app.slack.message import MAX_MESSAGE_TEXT, MAX_SECTION_TEXT, SlackMessage, message_text_length

MAX_SHOWN = 200  # a value longer than this is cut: a name in a message, not a payload
_TAIL = re.compile(r"^…and (\d+) (.+)$")  # the last line fit_joined writes when it cut a list


def escape_mrkdwn(value: object) -> str:
    """Untrusted text (names, labels, event fields) made inert in mrkdwn: Slack's three control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(value: object) -> str:
    """A value shown in a message: escaped, and cut at MAX_SHOWN characters."""
    return escape_mrkdwn(str(value)[:MAX_SHOWN])


def code(value: object) -> str:
    """`value` as an inline code span, escaped."""
    return f"`{escape(value).replace('`', chr(39))}`"


def clip(text: str, limit: int) -> str:
    """One line within `limit` characters; a cut line ends with "…" so the reader sees it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def left_out(count: int, noun: str) -> str:
    """"…and N <noun>", the noun singular for one ("…and 1 more line"): nouns here are plain English plurals."""
    if count == 1 and noun.endswith("s") and not noun.endswith("ss"):
        noun = noun[:-1]
    return f"…and {count} {noun}"


def _plural(noun: str, count: int) -> str:
    """The plural of a noun read back from a `left_out` line."""
    return noun + "s" if count == 1 and noun != "more" and not noun.endswith("s") else noun


def fit_joined(items: Sequence[str], limit: int, separator: str, tail_noun: str, max_items: int | None = None) -> str:
    """Join as many items as fit in `limit` chars (and at most `max_items`), then say how many were left out."""
    whole = separator.join(items)
    if len(whole) <= limit and (max_items is None or len(items) <= max_items):
        return whole
    kept: list[str] = []
    size = -len(separator)  # no separator before the first item
    for index, item in enumerate(items):
        left_after = len(items) - index - 1
        tail = len(separator + left_out(left_after, tail_noun)) if left_after else 0
        if (max_items is not None and index >= max_items) or size + len(separator) + len(item) + tail > limit:
            kept.append(left_out(len(items) - index, tail_noun))
            break
        kept.append(item)
        size += len(separator) + len(item)
    return separator.join(kept)


def fit_lines(lines: Sequence[str], limit: int = MAX_SECTION_TEXT, noun: str = "more",
              max_lines: int | None = None) -> str:
    """Lines joined by newlines, cut at a line boundary with "…and N <noun>"."""
    return fit_joined(lines, limit, "\n", noun, max_lines)


def fit_text(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """A multi-line text cut at a line boundary, saying how many lines were left out."""
    return fit_lines(text.split("\n"), limit, "more lines")


def fit_words(words: Sequence[str], limit: int, noun: str) -> str:
    """Comma-separated, ending with "…and N more <noun>" when cut."""
    return fit_joined(words, limit, ", ", f"more {noun}")


def titled_list(title: str, lines: Sequence[str], limit: int = MAX_SECTION_TEXT, shown: int | None = None,
                empty: str | None = None) -> str:
    """`*Title* (n)` then one bullet per line: at most `shown` bullets and `limit` characters, then "…and N more"."""
    bullets = [f"• {line}" for line in lines] or ([f"• {empty}"] if empty else [])
    return fit_lines([f"*{title}* ({len(lines)})", *bullets], limit, "more",
                     None if shown is None else shown + 1)


def refit_lines(text: str, limit: int) -> str:
    """A list already cut by fit_lines (or not) cut again at a line boundary within `limit`; its tail counts the
    lines it said were left out before plus those cut now. The first line always stays."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    tail = _TAIL.match(lines[-1])
    earlier, noun = (int(tail[1]), _plural(tail[2], int(tail[1]))) if tail else (0, "more lines")
    items = lines[:-1] if tail else lines
    kept: list[str] = []
    size = 0
    for index, line in enumerate(items):
        if size + len(line) + 1 + len(left_out(len(items) - index - 1 + earlier, noun)) > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if not kept and items:  # the first line (a list's title, what the section is about) stays, cut if need be
        rest = len(items) - 1 + earlier
        kept = [clip(items[0], max(20, limit - (len(left_out(rest, noun)) + 1 if rest else 0)))]
    left = len(items) - len(kept) + earlier
    return "\n".join([*kept, left_out(left, noun)] if left else kept)


def fit_message(message: SlackMessage, limit: int = MAX_MESSAGE_TEXT) -> SlackMessage:
    """The message within `limit` characters of text (MAX_MESSAGE_TEXT: Slack refuses a message whose blocks carry
    more than about 12,000 together): the longest mrkdwn sections are cut at line boundaries, each to the same
    share, and say how many lines they left out. Headers, buttons and context lines stay whole."""
    over = message_text_length(message) - limit
    if over <= 0:
        return message
    sections = {index: len(block["text"]["text"]) for index, block in enumerate(message.blocks)
                if block.get("type") == "section" and (block.get("text") or {}).get("type") == "mrkdwn"}
    room = limit - (message_text_length(message) - sum(sections.values()))
    share = 0
    for position, length in enumerate(sorted(sections.values())):  # the short ones stay whole when they can
        share = max(0, room) // (len(sections) - position)
        if length > share:
            break
        room -= length
    blocks = [dict(block, text=dict(block["text"], text=refit_lines(block["text"]["text"], share)))
              if sections.get(index, 0) > share else block for index, block in enumerate(message.blocks)]
    return replace(message, blocks=blocks)
