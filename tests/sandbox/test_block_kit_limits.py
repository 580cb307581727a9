"""The Slack twin refuses what Slack's Block Kit reference refuses (sandbox/block_kit.py cites each limit): every
limit is pinned at its boundary, accepted at the limit and refused one past it."""
import pytest

from sandbox.block_kit import (
    MAX_ACTION_ID,
    MAX_ACTIONS_ELEMENTS,
    MAX_BLOCK_ID,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_URL,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_TEXT_OBJECT,
    block_kit_problems,
)


def button(index: int = 0, text: str = "Keep", **fields) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": f"a{index}", **fields}


def actions(*elements: dict, **fields) -> dict:
    return {"type": "actions", "elements": list(elements), **fields}


def mrkdwn(text: str = "x") -> dict:
    return {"type": "mrkdwn", "text": text}


def problems(*blocks: dict) -> list[str]:
    return block_kit_problems({"text": "t", "blocks": list(blocks)})


def test_the_documented_limits_are_slacks():
    assert (MAX_ACTIONS_ELEMENTS, MAX_CONTEXT_ELEMENTS, MAX_BLOCK_ID) == (25, 10, 255)
    assert (MAX_BUTTON_TEXT, MAX_ACTION_ID, MAX_BUTTON_VALUE, MAX_BUTTON_URL) == (75, 255, 2000, 3000)
    assert MAX_TEXT_OBJECT == 3000


def test_an_actions_block_holds_at_most_25_elements():
    assert problems(actions(*[button(i) for i in range(25)])) == []
    refused = problems(actions(*[button(i) for i in range(26)]))
    assert refused == ["invalid_blocks: actions 0 has 26 elements, at most 25"]


def test_a_context_block_holds_at_most_10_elements():
    assert problems({"type": "context", "elements": [mrkdwn()] * 10}) == []
    assert problems({"type": "context", "elements": [mrkdwn()] * 11}) == [
        "invalid_blocks: context 0 has 11 elements, at most 10"]


def test_context_elements_are_text_objects_or_images():
    image = {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a"}
    assert problems({"type": "context", "elements": [image, mrkdwn(), {"type": "plain_text", "text": "p"}]}) == []
    refused = problems({"type": "context", "elements": [button()]})
    assert len(refused) == 1 and refused[0].startswith("invalid_blocks: context 0 element 0 is not a text object")


@pytest.mark.parametrize("field, limit", [("text", MAX_BUTTON_TEXT), ("action_id", MAX_ACTION_ID),
                                          ("value", MAX_BUTTON_VALUE), ("url", MAX_BUTTON_URL)])
def test_button_fields_have_their_documented_lengths(field, limit):
    def with_length(length: int) -> dict:
        if field == "text":
            return button(text="k" * length)
        return {**button(), field: "k" * length}

    assert problems(actions(with_length(limit))) == []
    assert problems(actions(with_length(limit + 1))) == [
        f"invalid_blocks: actions 0 element 0 {field} {limit + 1} chars, at most {limit}"]


def test_a_buttons_text_is_plain_text_and_its_style_primary_or_danger():
    assert problems(actions(button(style="primary"), button(1, style="danger"))) == []
    mrkdwn_text = {**button(), "text": mrkdwn("*Keep*")}
    assert problems(actions(mrkdwn_text)) == ["invalid_blocks: actions 0 element 0 text must be plain_text"]
    assert problems(actions(button(style="green"))) == [
        "invalid_blocks: actions 0 element 0 style 'green', expected one of ('primary', 'danger')"]


def test_a_button_as_a_section_accessory_is_checked_too():
    section = {"type": "section", "text": mrkdwn(), "accessory": button(text="k" * 76)}
    assert problems(section) == ["invalid_blocks: section 0 accessory text 76 chars, at most 75"]


def test_action_ids_are_unique_within_their_block_not_across_blocks():
    assert problems(actions(button(0), block_id="one"), actions(button(0), block_id="two")) == []
    assert problems(actions(button(0), button(0))) == ["invalid_blocks: actions 0 element 1 repeats action_id 'a0'"]


def test_block_ids_are_unique_within_a_message_and_at_most_255_chars():
    divider = {"type": "divider", "block_id": "d" * 255}
    assert problems(divider, {**divider, "block_id": "e"}) == []
    assert problems({"type": "divider", "block_id": "d" * 256}) == [
        "invalid_blocks: divider 0 block_id 256 chars, at most 255"]
    assert problems(divider, {"type": "section", "text": mrkdwn(), "block_id": "d" * 255}) == [
        f"invalid_blocks: block 1 repeats block_id '{'d' * 255}'"]


@pytest.mark.parametrize("text", [{"type": "markdown", "text": "x"}, {"type": "plain_text"}, "just a string"])
def test_section_text_and_fields_are_plain_text_or_mrkdwn_objects(text):
    assert problems({"type": "section", "text": mrkdwn(), "fields": [mrkdwn(), {"type": "plain_text",
                                                                                "text": "p"}]}) == []
    assert problems({"type": "section", "text": text})[0].startswith("invalid_blocks: section 0 text is not a text")
    assert problems({"type": "section", "fields": [text]})[0].startswith(
        "invalid_blocks: section 0 field 0 is not a text object")


def test_a_header_is_plain_text():
    assert problems({"type": "header", "text": mrkdwn("x")}) == ["invalid_blocks: header 0 must be plain_text"]
    assert problems({"type": "header", "text": {"type": "plain_text", "text": "x" * 150}}) == []


def test_a_text_object_holds_1_to_3000_characters_wherever_it_sits():
    assert problems({"type": "context", "elements": [mrkdwn("c" * 3000)]}) == []
    assert problems({"type": "context", "elements": [mrkdwn("c" * 3001)]}) == [
        "invalid_blocks: context 0 element 0 3001 chars, at most 3000"]
    assert problems({"type": "context", "elements": [mrkdwn("")]}) == [
        "invalid_blocks: context 0 element 0 is empty, at least 1 char"]
    assert problems({"type": "header", "text": {"type": "plain_text", "text": ""}}) == [
        "invalid_blocks: header 0 text is empty, at least 1 char"]
    assert problems(actions({**button(), "text": {"type": "plain_text", "text": ""}})) == [
        "invalid_blocks: actions 0 element 0 text is empty, at least 1 char"]
