"""What Slack refuses in a Block Kit message (pure): the sandbox's Slack twin answers with these problems.

Each problem is "<slack error>: <what>"; Slack's error is `no_text`, `invalid_blocks` (a block or element breaks
its documented limits) or `msg_blocks_too_long` (the blocks' text together is too long). Only limits Slack
documents (or that Slack was seen to enforce, cited) are modelled; block types costguard never sends are checked
for what every block shares (type, block_id) only.
"""
from __future__ import annotations

# Slack's own limits (not costguard's): Block Kit reference (docs.slack.dev/reference/block-kit/blocks): at most 50
# blocks a message, section text 3,000 characters, header text 150, section fields 10 of 2,000 each.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
# The cumulative text of a message's blocks: chat.postMessage answers `msg_blocks_too_long` past about 12,000
# characters ("12,000 text characters with a buffer for block containers", Slack in slackapi/bolt-js#2509; the
# markdown block doc states 12,000 cumulative; slackapi/bolt-js#2867 saw a rejection at 11,341 measured
# characters, so senders need a margin). The twin enforces the documented 12,000 on the text it can count.
MAX_BLOCKS_TEXT = 12_000
# Every block: "block_id ... Maximum length for this field is 255 characters. block_id should be unique for each
# message" (docs.slack.dev/reference/block-kit/blocks/actions-block, /context-block, /section-block). Slack refuses
# a repeated block_id (blog.kinto-technologies.com/posts/2024-12-04_slackcli_blockid: two blocks with one block_id
# were refused; slack-go/slack#823: "Block ID needs to be unique").
MAX_BLOCK_ID = 255
# Actions block: "There is a maximum of 25 elements in each action block"
# (docs.slack.dev/reference/block-kit/blocks/actions-block; slackapi/python-slack-sdk#1253 raised slack_sdk's
# check from 5 to 25 after testing Slack).
MAX_ACTIONS_ELEMENTS = 25
# Context block: "An array of image elements and text objects. Maximum number of items is 10."
# (docs.slack.dev/reference/block-kit/blocks/context-block)
MAX_CONTEXT_ELEMENTS = 10
# Button element (docs.slack.dev/reference/block-kit/block-elements/button-element): text "Can only be of type:
# plain_text ... Maximum length for the text in this field is 75 characters"; action_id "Should be unique among all
# other action_ids in the containing block. Maximum length is 255 characters"; url at most 3000; value at most
# 2000; style primary or danger. Slack answers invalid_blocks for a repeated action_id in one actions block
# (knacklabs/gantry#458: a two-button card with one action_id was refused on every attempt; the uniqueness is
# checked per containing block, so the same action_id in two blocks passes).
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_BUTTON_URL = 3000
MAX_BUTTON_VALUE = 2000
BUTTON_STYLES = ("primary", "danger")
# A text object's type is "plain_text" or "mrkdwn", its text "The minimum length is 1 and maximum length is 3000
# characters" (docs.slack.dev/reference/block-kit/composition-objects/text-object); blocks.validate answers
# invalid_blocks "unsupported type" with exactly these two types expected (docs.slack.dev/reference/methods/
# blocks.validate). Where a text object sits may allow less (header 150, field 2000, button 75).
TEXT_TYPES = ("plain_text", "mrkdwn")
MAX_TEXT_OBJECT = 3000


def blocks_text_length(value) -> int:
    """Characters of every `text` string anywhere in the blocks (text objects, fields, rich text elements)."""
    if isinstance(value, list):
        return sum(blocks_text_length(item) for item in value)
    if isinstance(value, dict):
        return sum(len(item) if key == "text" and isinstance(item, str) else blocks_text_length(item)
                   for key, item in value.items())
    return 0


def _text_object_problems(where: str, obj) -> list[str]:
    """`where` names the text ("section 0 text"): its type, then 1 to MAX_TEXT_OBJECT characters."""
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES or not isinstance(obj.get("text"), str):
        kind = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        return [f"invalid_blocks: {where} is not a text object (type {kind!r}, expected one of {TEXT_TYPES})"]
    if not obj["text"]:
        return [f"invalid_blocks: {where} is empty, at least 1 char"]
    return _length_problem(where, obj["text"], MAX_TEXT_OBJECT)


def _length_problem(where: str, value, limit: int) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"invalid_blocks: {where} {len(value)} chars, at most {limit}"]
    return []


def _button_problems(where: str, button: dict) -> list[str]:
    text = button.get("text")
    problems = _text_object_problems(f"{where} text", text)
    if not problems and text["type"] != "plain_text":
        problems.append(f"invalid_blocks: {where} text must be plain_text")
    if not problems:
        problems += _length_problem(f"{where} text", text["text"], MAX_BUTTON_TEXT)
    problems += _length_problem(f"{where} action_id", button.get("action_id"), MAX_ACTION_ID)
    problems += _length_problem(f"{where} url", button.get("url"), MAX_BUTTON_URL)
    problems += _length_problem(f"{where} value", button.get("value"), MAX_BUTTON_VALUE)
    if "style" in button and button["style"] not in BUTTON_STYLES:
        problems.append(f"invalid_blocks: {where} style {button['style']!r}, expected one of {BUTTON_STYLES}")
    return problems


def _element_problems(where: str, element) -> list[str]:
    """An interactive element; only buttons (what costguard sends) are checked field by field."""
    if not isinstance(element, dict) or "type" not in element:
        return [f"invalid_blocks: {where} has no type"]
    return _button_problems(where, element) if element["type"] == "button" else []


def _section_problems(where: str, block: dict) -> list[str]:
    problems = []
    fields = block.get("fields") or []
    if "text" in block:
        problems += _text_object_problems(f"{where} text", block["text"])
        if not problems:
            problems += _length_problem(f"{where} text", block["text"]["text"], MAX_SECTION_TEXT)
    text = block.get("text")
    if not (isinstance(text, dict) and text.get("text")) and not fields:
        problems.append(f"invalid_blocks: {where} has neither text nor fields")
    if len(fields) > MAX_SECTION_FIELDS:
        problems.append(f"invalid_blocks: {where} has {len(fields)} fields, at most {MAX_SECTION_FIELDS}")
    for field_index, field in enumerate(fields):
        field_problems = _text_object_problems(f"{where} field {field_index}", field)
        problems += field_problems or _length_problem(f"{where} field {field_index} text", field["text"],
                                                      MAX_FIELD_TEXT)
    if "accessory" in block:
        problems += _element_problems(f"{where} accessory", block["accessory"])
    return problems


def _header_problems(where: str, block: dict) -> list[str]:
    text = block.get("text")
    if not isinstance(text, dict) or text.get("type") != "plain_text":
        return [f"invalid_blocks: {where} must be plain_text"]
    return (_text_object_problems(f"{where} text", text)
            or _length_problem(f"{where} text", text.get("text"), MAX_HEADER_TEXT))


def _actions_problems(where: str, block: dict) -> list[str]:
    elements = block.get("elements") or []
    problems = []
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        problems.append(f"invalid_blocks: {where} has {len(elements)} elements, at most {MAX_ACTIONS_ELEMENTS}")
    seen: set[str] = set()
    for index, element in enumerate(elements):
        problems += _element_problems(f"{where} element {index}", element)
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if action_id is not None and action_id in seen:
            problems.append(f"invalid_blocks: {where} element {index} repeats action_id {action_id!r}")
        seen.add(action_id)
    return problems


def _context_problems(where: str, block: dict) -> list[str]:
    elements = block.get("elements") or []
    problems = []
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        problems.append(f"invalid_blocks: {where} has {len(elements)} elements, at most {MAX_CONTEXT_ELEMENTS}")
    for index, element in enumerate(elements):
        if not (isinstance(element, dict) and element.get("type") == "image"):
            problems += _text_object_problems(f"{where} element {index}", element)
    return problems


_BY_TYPE = {"section": _section_problems, "header": _header_problems, "actions": _actions_problems,
            "context": _context_problems}


def _block_problems(index: int, block) -> list[str]:
    """Per-block violations: Slack answers `invalid_blocks` for any of them."""
    if not isinstance(block, dict) or "type" not in block:
        return [f"invalid_blocks: block {index} has no type"]
    where = f"{block['type']} {index}"
    problems = _length_problem(f"{where} block_id", block.get("block_id"), MAX_BLOCK_ID)
    check = _BY_TYPE.get(block["type"])
    return problems + (check(where, block) if check else [])


def block_kit_problems(payload: dict) -> list[str]:
    """What Slack would refuse in this payload; empty when it is acceptable. The first problem's code (before any
    ':') is Slack's error: `no_text`, `invalid_blocks` (a block breaks its own limits, or more than 50 blocks),
    `msg_blocks_too_long` (the blocks together carry more than MAX_BLOCKS_TEXT characters)."""
    problems: list[str] = []
    if not isinstance(payload.get("text"), str) or not payload["text"].strip():
        problems.append("no_text")
    blocks = payload.get("blocks", [])
    if not isinstance(blocks, list):
        return problems + ["invalid_blocks: blocks must be a list"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"invalid_blocks: {len(blocks)} blocks, at most {MAX_BLOCKS}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        problems.extend(_block_problems(index, block))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"invalid_blocks: block {index} repeats block_id {block_id!r}")
            block_ids.add(block_id)
    total = blocks_text_length(blocks)
    if total > MAX_BLOCKS_TEXT:
        problems.append(f"msg_blocks_too_long: the blocks carry {total} characters of text, at most "
                        f"{MAX_BLOCKS_TEXT}")
    return problems
