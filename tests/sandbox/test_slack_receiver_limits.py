"""The Slack receiver refuses what Slack refuses: the blocks' cumulative text (msg_blocks_too_long, bot API;
invalid_blocks, webhooks) and per-block limits (invalid_blocks), through slack_sdk's own clients."""
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.block_kit import MAX_BLOCKS_TEXT, block_kit_problems, blocks_text_length
from sandbox.slack_receiver import DEFAULT_BOT_TOKEN, SlackReceiver


def section(chars: int) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * chars}}


def blocks_of(total: int, size: int = 3000) -> list[dict]:
    return [section(min(size, total - start)) for start in range(0, total, size)]


@pytest.fixture(scope="module")
def receiver():
    with SlackReceiver(min_interval=0.0) as running:
        yield running


def test_text_is_counted_wherever_blocks_carry_it():
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "abc"}},
              {"type": "section", "fields": [{"type": "mrkdwn", "text": "12345"}]},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": "ab"}]},
              {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                                  "elements": [{"type": "text", "text": "wxyz"}]}]},
              {"type": "divider"}]
    assert blocks_text_length(blocks) == 3 + 5 + 2 + 4


def test_the_cumulative_limit_sits_at_12000_characters():
    assert block_kit_problems({"text": "t", "blocks": blocks_of(MAX_BLOCKS_TEXT)}) == []
    problems = block_kit_problems({"text": "t", "blocks": blocks_of(MAX_BLOCKS_TEXT + 1)})
    assert [p.split(":")[0] for p in problems] == ["msg_blocks_too_long"]
    assert str(MAX_BLOCKS_TEXT + 1) in problems[0]


def test_per_block_limits_are_invalid_blocks():
    fields = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}
    long_field = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}
    assert block_kit_problems({"text": "t", "blocks": [fields]})[0].startswith("invalid_blocks: section 0 has 11")
    assert "field 0 text 2001 chars" in block_kit_problems({"text": "t", "blocks": [long_field]})[0]
    assert block_kit_problems({"text": "t", "blocks": [section(3001)]})[0].startswith("invalid_blocks")


def test_chat_post_message_answers_msg_blocks_too_long(receiver):
    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=receiver.api_base_url)
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="t", blocks=blocks_of(12_600))
    assert refused.value.response["error"] == "msg_blocks_too_long"
    accepted = client.chat_postMessage(channel="C1", text="t", blocks=blocks_of(11_000))
    assert accepted["ok"] and receiver.messages_for("C1")[-1].payload["blocks"][0]["text"]["text"] == "x" * 3000
    with pytest.raises(SlackApiError) as invalid:
        client.chat_postMessage(channel="C1", text="t", blocks=[section(3001)])
    assert invalid.value.response["error"] == "invalid_blocks"


def test_webhooks_answer_400_invalid_blocks_for_both(receiver):
    webhook = WebhookClient(receiver.webhook_url("limits"))
    too_long = webhook.send(text="t", blocks=blocks_of(12_600))
    assert (too_long.status_code, too_long.body) == (400, "invalid_blocks")
    broken = webhook.send(text="t", blocks=[section(3001)])
    assert (broken.status_code, broken.body) == (400, "invalid_blocks")
    assert [error.split(":")[0] for _, error in receiver.rejections if _ == "limits"] == [
        "msg_blocks_too_long", "invalid_blocks"]
    assert webhook.send(text="t", blocks=blocks_of(9_000)).status_code == 200
