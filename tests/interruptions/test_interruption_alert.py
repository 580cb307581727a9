import re

import pytest

from chalice_app.interruptions.actions import Action, ActionOutcome
from chalice_app.interruptions.alert import date_token, detail_budget
from chalice_app.interruptions.chunking import plan_messages
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.parsing import parse_event
from chalice_app.slack.render import to_text
from chalice_app.slack.text import fit_lines, fit_words
from sandbox.block_kit import block_kit_problems
from tests.interruptions import factories as f


def _texts(block: dict) -> list[str]:
    found = []
    for key in ("text",):
        if isinstance(block.get(key), dict):
            found.append(block[key]["text"])
    found += [cell["text"] for cell in block.get("fields", [])]
    found += [element.get("text", "") for element in block.get("elements", [])]
    return found


def _assert_within_slack_limits(messages):
    for message in messages:
        assert block_kit_problems({"text": message.text, "blocks": message.blocks}) == []  # the Slack twin's checks
        assert len(message.blocks) <= 50
        # Slack refuses `msg_blocks_too_long` past ~12,000 characters of text; we keep under 10,000.
        assert len(message.text) + sum(len(t) for b in message.blocks for t in _texts(b)) <= 10_000
        for block in message.blocks:
            limit = 150 if block["type"] == "header" else 3000
            assert all(len(text) <= limit for text in _texts(block)), block


def _burst(count, pools=("spot", "default"), kinds=(f.spot_warning,)):
    events = [kinds[n % len(kinds)](n) for n in range(count)]
    nodes = [f.node(n, pool=pools[n % len(pools)], instance_type=("m5.large", "c5.xlarge", "r6i.large")[n % 3],
                    zone=("us-east-1a", "us-east-1b")[n % 2]) for n in range(count)]
    pods = [f.pod(f"fn{n % 20}", n, n) for n in range(0, count, max(1, count // 60))]
    return correlate([parse_event(e) for e in events], nodes, [], pods)


def test_a_15000_node_burst_is_a_handful_of_messages_within_limits_that_count_every_instance():
    correlation = _burst(15000, pools=("spot", "default", "gpu"), kinds=(f.spot_warning, f.rebalance))
    planned = plan_messages(correlation, f.NOW, "demo")
    messages = [message for message, _ in planned]
    assert 1 < len(messages) <= 20  # six groups of tails do not fit one message's 10,000 characters
    _assert_within_slack_limits(messages)
    text = "\n".join(to_text(message, now=f.NOW) for message in messages)
    assert text.startswith("15000 nodes hit")
    group_sizes = [int(n) for n in re.findall(r"NodePool \*\w+\* · (\d+) nodes", text)]
    assert sum(group_sizes) == 15000 and len(group_sizes) == 6
    detailed = len(re.findall(r"^\*i-[0-9a-f]+\* · ", text, flags=re.M))
    tails = sum(int(n) for n in re.findall(r"\*\+(\d+) more nodes\*", text))
    assert detailed + tails == 15000
    assert frozenset().union(*(ids for _, ids in planned)) == {i.notice.event_id for i in correlation.impacts}


def test_many_node_pools_are_split_into_parts_that_each_carry_their_notices():
    correlation = _burst(400, pools=tuple(f"pool{n:02d}" for n in range(40)))
    planned = plan_messages(correlation, f.NOW, "demo")
    assert len(planned) > 1
    _assert_within_slack_limits([message for message, _ in planned])
    for number, (message, _) in enumerate(planned, start=1):
        assert message.blocks[0]["type"] == "header"
        assert message.blocks[0]["text"]["text"].endswith(f"(part {number}/{len(planned)})")
    assert frozenset().union(*(ids for _, ids in planned)) == {i.notice.event_id for i in correlation.impacts}


def test_single_node_alert_reads_well_and_threads_by_instance():
    correlation = correlate([parse_event(f.spot_warning(3))], [f.node(3)], [f.nodeclaim(3)],
                            [f.pod("sleep", 3, 0), f.pod("sleep", 3, 1)])
    outcome = ActionOutcome(f.node_name(3), Action.CORDON_AND_DRAIN, dry_run=True, cordoned=True,
                            evicted=("openfaas-fn/sleep-0", "openfaas-fn/sleep-1"))
    ((message, ids),) = plan_messages(correlation, f.NOW, "demo", outcomes=[outcome])
    assert message.thread_keys == (f.instance_id(3),)
    assert f.instance_id(3) in message.text
    text = to_text(message, now=f.NOW)
    for expected in ("1 node hit · 1 function affected · 1 unavailable", "Spot interruption warning",
                     "NodePool *spot*", "m5.large", "us-east-1a", "spot / spot-00003", "in 1 minute",
                     "`openfaas-fn/sleep`: 2 here", "unavailable until rescheduled", "Actions (dry run)",
                     "2 pods to evict", "45–70 s cold start"):
        assert expected in text, expected


def test_a_batch_with_no_node_of_this_cluster_sends_nothing():
    assert plan_messages(correlate([parse_event(f.spot_warning(1))], [], [], []), f.NOW, "demo") == []


def test_date_token_falls_back_to_utc_text():
    token = date_token(f.NOW)
    assert token.startswith(f"<!date^{int(f.NOW.timestamp())}^") and token.endswith("|2026-11-24 18:00:30 UTC>")


@pytest.mark.parametrize("limit", [30, 100, 3000])
def test_fit_words_never_exceeds_the_limit_and_counts_what_it_cut(limit):
    words = [f.instance_id(n) for n in range(500)]
    text = fit_words(words, limit, "instances")
    assert len(text) <= limit
    shown = len(re.findall(r"i-[0-9a-f]{17}", text))
    cut = re.search(r"…and (\d+) more instances", text)
    assert shown + (int(cut.group(1)) if cut else 0) == 500


def test_fit_lines_keeps_everything_that_fits():
    assert fit_lines(["a", "b"], 10) == "a\nb"
    assert fit_lines(["x" * 8] * 5, 30, noun="more lines") == "x" * 8 + "\n…and 4 more lines"


def test_detail_budget_gives_each_group_one_then_fills_in_order():
    assert detail_budget([100, 1, 50], budget=5) == [3, 1, 1]
    assert detail_budget([2, 2], budget=12) == [2, 2]
    assert detail_budget([5, 5, 5], budget=2) == [1, 1, 0]


def test_only_the_last_part_of_a_split_alert_may_open_a_thread(monkeypatch):
    from chalice_app.interruptions import chunking

    monkeypatch.setattr(chunking, "MAX_THREAD_KEYS", 10_000)  # so a split alert carries thread keys at all
    planned = plan_messages(_burst(400, pools=tuple(f"pool{n:02d}" for n in range(40))), f.NOW, "demo")
    assert len(planned) > 1 and all(message.thread_keys for message, _ in planned)
    assert [message.opens_thread for message, _ in planned] == [False] * (len(planned) - 1) + [True]
