"""A 15,000-node burst reaches the twin Slack receiver (which refuses `msg_blocks_too_long` as Slack does) in a
handful of messages, each accepted, every instance counted exactly once. Bot mode: chat.postMessage."""
import re

import pytest

from chalice_app.interruptions.chunking import plan_messages
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.bot import BotNotifier
from chalice_app.slack.pacing import Pacer
from chalice_app.slack.render import to_text
from sandbox.slack_receiver import DEFAULT_BOT_TOKEN, SlackReceiver
from tests.interruptions import factories as f
from tests.interruptions.test_interruption_alert import _burst


@pytest.fixture
def receiver():
    service = SlackReceiver(min_interval=0.0).start()
    yield service
    service.stop()


def test_a_15000_node_burst_is_at_most_20_accepted_messages_counting_every_instance_once(receiver):
    correlation = _burst(15000, pools=("spot", "default", "gpu"), kinds=(f.spot_warning, f.rebalance))
    planned = plan_messages(correlation, f.NOW, "demo")
    notifier = BotNotifier(DEFAULT_BOT_TOKEN, "#alerts", base_url=receiver.api_base_url, pacer=Pacer(interval=0))
    for message, _ in planned:
        notifier.send(message)  # raises SlackDeliveryError if the receiver refuses it
    received = receiver.messages
    assert receiver.rejections == [] and 1 <= len(received) == len(planned) <= 20
    text = "\n".join(to_text(SlackMessage(text=m.text, blocks=m.payload["blocks"]), now=f.NOW) for m in received)
    detailed = set(re.findall(r"^\*(i-[0-9a-f]+)\* · ", text, flags=re.M))
    tails = sum(int(n) for n in re.findall(r"\*\+(\d+) more nodes\*", text))
    assert len(detailed) + tails == 15000  # each instance once: in full or in exactly one tail count


def test_the_receiver_refuses_what_one_message_of_the_old_shape_would_have_been(receiver):
    correlation = _burst(15000, pools=("spot", "default", "gpu"), kinds=(f.spot_warning, f.rebalance))
    blocks = [block for message, _ in plan_messages(correlation, f.NOW, "demo") for block in message.blocks]
    notifier = BotNotifier(DEFAULT_BOT_TOKEN, "#alerts", base_url=receiver.api_base_url, pacer=Pacer(interval=0),
                           handlers=[])
    with pytest.raises(Exception, match="msg_blocks_too_long"):
        notifier.send(SlackMessage(text="all at once", blocks=blocks[:50]))
