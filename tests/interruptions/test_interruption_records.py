"""hit#, spot# and disrupted# records: pure keys and counting, the DynamoDB adapter on moto, and the batch using them."""
from collections import Counter
from datetime import datetime, timezone

from chalice_app import table_keys
from chalice_app.interruptions import actions, records
from chalice_app.interruptions.batch import process_batch
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f
from tests.interruptions.conftest import TABLE
from tests.interruptions.test_interruption_classify import disrupted_claim, tainted_node
from tests.memory_cluster import FreshLedger, snapshot_of
from tests.slackfakes import RecordingNotifier


def test_keys_weeks_and_counter_names_are_bounded():
    assert table_keys.spot_key(datetime(2026, 12, 31, tzinfo=timezone.utc)) == "spot#2026-W53"
    assert table_keys.disrupted_key(datetime(2026, 11, 24).date()) == "disrupted#2026-11-24"
    name = records.counter_name("x" * 500, "a|b")
    assert name == "n:" + "x" * 64 + "|a/b"
    assert records.counts_of({"n:m5.large|us-east-1a": {"N": "3"}, "id": {"S": "spot#x"}}) == Counter(
        {("m5.large", "us-east-1a"): 3})


def test_spot_and_disruption_counts_one_per_instance():
    correlation = correlate([parse_event(f.spot_warning(n)) for n in range(3)] + [parse_event(f.rebalance(4))],
                            [f.node(n, instance_type="c5.xlarge" if n else "m5.large") for n in range(5)], [], [])
    assert records.spot_counts(correlation.impacts) == Counter(
        {"n:m5.large|us-east-1a": 1, "n:c5.xlarge|us-east-1a": 2})
    quiet = correlate([parse_event(f.state_change(1, "terminated"))], [tainted_node(1)], [disrupted_claim(1)], [])
    assert records.disruption_counts(quiet.disrupted) == Counter({"n:spot|Underutilized": 1})


def test_adapter_remembers_recalls_and_adds_counts_atomically(dynamodb):
    table = records.InterruptionRecords(TABLE, dynamodb, clock=lambda: f.NOW)
    impact = correlate([parse_event(f.spot_warning(1))], [f.node(1)], [f.nodeclaim(1)], [f.pod("sleep", 1)]).impacts[0]
    table.remember([impact])
    recalled = table.recall([f.instance_id(1), f.instance_id(2)])
    assert list(recalled) == [f.instance_id(1)]
    facts, replicas = recalled[f.instance_id(1)]
    assert facts.remembered and facts.nodeclaim == "spot-00001" and str(replicas[0][0]) == "openfaas-fn/sleep"
    key = table_keys.spot_key(f.NOW)
    table.add_counts(key, Counter({"n:m5.large|us-east-1a": 2}), records.SPOT_LIFETIME)
    table.add_counts(key, Counter({"n:m5.large|us-east-1a": 1, "n:c5.large|us-east-1b": 1}), records.SPOT_LIFETIME)
    assert table.counts([key, table_keys.spot_key(datetime(2020, 1, 1))]) == {key: Counter(
        {("m5.large", "us-east-1a"): 3, ("c5.large", "us-east-1b"): 1})}


class _Memory:
    def __init__(self):
        self.hits, self.counts = {}, Counter()

    def recall(self, ids):
        return {i: self.hits[i] for i in ids if i in self.hits}

    def remember(self, impacts):
        for impact in impacts:
            self.hits[impact.node.instance_id] = records.remembered_facts(records.hit_item(impact, f.NOW))

    def add_counts(self, key, counts, lifetime):
        for name, value in counts.items():
            self.counts[(key, name)] += value


def _ports(memory, slack, nodes, claims=(), pods=()):
    return InterruptionPorts(ledger=FreshLedger(), cluster=snapshot_of(nodes, claims, pods), notifier=slack,
                             plan_actions=lambda impacts: actions.plan_actions(impacts, {}, "alert"),
                             clock=lambda: f.NOW, cluster_name="test", records=memory)


def test_the_terminated_follow_up_after_the_node_is_gone_is_alerted_and_threaded():
    memory, slack = _Memory(), RecordingNotifier()
    process_batch([f.record(f.spot_warning(1))], f.REGION,
                  _ports(memory, slack, [f.node(1)], [f.nodeclaim(1)], [f.pod("sleep", 1)]))
    assert f.instance_id(1) in memory.hits
    assert memory.counts[(table_keys.spot_key(f.NOW), "n:m5.large|us-east-1a")] == 1
    result = process_batch([f.record(f.state_change(1, "terminated"))], f.REGION, _ports(memory, slack, []))
    assert result.counts["not_in_cluster"] == 0 and len(slack.sent) == 2
    follow_up = slack.sent[1]
    assert follow_up.thread_keys == (f.instance_id(1),)
    assert f.node_name(1) in str(follow_up.blocks) and "spot-00001" in str(follow_up.blocks)


def test_karpenter_disruptions_go_to_the_digest_counted_once_and_never_alert():
    memory, slack = _Memory(), RecordingNotifier()
    ports = _ports(memory, slack, [tainted_node(1)], [disrupted_claim(1)])
    first = process_batch([f.record(f.state_change(1, "shutting-down")), f.record(f.state_change(1, "terminated"))],
                          f.REGION, ports)
    second = process_batch([f.record(f.state_change(1, "terminated"))], f.REGION, _ports(memory, slack, []))
    assert slack.sent == [] and first.failed == [] and second.failed == []
    assert first.counts["karpenter_disruptions"] == 1 and second.counts["karpenter_disruptions"] == 1
    assert memory.counts[(table_keys.disrupted_key(f.NOW.date()), "n:spot|Underutilized")] == 1


def test_a_failing_record_store_never_holds_the_alert_back():
    memory, slack = _Memory(), RecordingNotifier()

    def broken(*args):
        raise ConnectionError("DynamoDB went away")

    memory.remember = memory.add_counts = broken
    ports = _ports(memory, slack, [f.node(1)])
    result = process_batch([f.record(f.spot_warning(1))], f.REGION, ports)
    assert len(slack.sent) == 1 and result.failed == []
    assert any("DynamoDB went away" in error for error in result.errors)
