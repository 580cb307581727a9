"""One SQS batch, start to finish: decode → claim → read cluster once and recall what was hit before → correlate →
alert → settle → remember, count, record Events → act (concurrently, bounded) → report the actions.

The alert leaves before any node action starts: a drain can take its time, the warning gives two minutes. The I/O
steps come in through `InterruptionPorts` (ports.py: Protocols), so the whole flow runs in tests with fakes and in the Lambda
with the real adapters. What a message's fate is:
  malformed / ignored / other account or region / already alerted / instance not in cluster / Karpenter's own
  disruption (digest) → succeeded;
  claimed by another invocation, or its Slack message not accepted → failed (SQS redelivers it, DLQ after 5).
A cluster that cannot be read sends the brief "cluster unreachable" alert (`unreachable.py`) and fails the new
notices' messages, so the retry sends the full alert; a failure of the idempotency table fails the whole batch
(raised), after releasing claims.
What follows the alert (remembering, counting, Events, actions) is best effort: a failure there is reported in the
batch's errors and log, never a reason to alert twice.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

from chalice_app.interruptions import records
from chalice_app import table_keys
from chalice_app.interruptions.actions import ActionOutcome, NodeAction
from chalice_app.interruptions.alert import BatchCounts
from chalice_app.interruptions.chunking import actions_message, closed_messages, plan_messages, thread_keys
from chalice_app.interruptions.correlation import Correlation, correlate
from chalice_app.interruptions.isolation import checked_objects, isolation_messages
from chalice_app.interruptions.node_events import plan_events
from chalice_app.interruptions.ports import InterruptionPorts
from chalice_app.interruptions.ledger import Claim
from chalice_app.interruptions.notice import Ignored, MalformedEvent, Notice
from chalice_app.interruptions.parsing import load_body, parse_event
from chalice_app.interruptions.unreachable import brief_notice, unreachable_message
from chalice_app.slack.message import SlackMessage


@dataclass
class Decoded:
    notices: list[tuple[str, Notice]] = field(default_factory=list)  # (SQS message id, notice)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (message id, reason)
    malformed: list[tuple[str, str]] = field(default_factory=list)
    foreign: list[tuple[str, Notice]] = field(default_factory=list)


def account_of_queue(event_source_arn: str | None) -> str | None:
    """arn:aws:sqs:<region>:<account>:<queue> → account: events from elsewhere are not this cluster's."""
    parts = (event_source_arn or "").split(":")
    return parts[4] if len(parts) == 6 and parts[2] == "sqs" else None


def with_queue_account(event, account: str | None):
    """EventBridge always sets `account`; moto's delivery to SQS leaves it out. The queue's account is then the
    event's: EventBridge only delivers a bus's events to targets the rule names."""
    if isinstance(event, dict) and "account" not in event and account:
        return {**event, "account": account}
    return event


def is_ours(notice: Notice, region: str, queue_account: str | None) -> bool:
    """Fail closed: act only when the account and every region the event names are established and the stage's.
    The queue's account is the stage's (the queue is the stage's own); a record without a readable queue ARN
    cannot establish it."""
    regions = {notice.region, notice.delivered_region or notice.region}
    return queue_account is not None and notice.account == queue_account and regions == {region}


def decode_records(records: Sequence[dict], region: str) -> Decoded:
    decoded = Decoded()
    for index, record in enumerate(records):
        message_id = record.get("messageId") or f"(record {index} without messageId)"
        account = account_of_queue(record.get("eventSourceARN"))
        try:
            outcome = parse_event(with_queue_account(load_body(record.get("body")), account))
        except MalformedEvent as error:
            decoded.malformed.append((message_id, str(error)))
            continue
        except Exception as error:  # noqa: BLE001 - one message the parser did not foresee must not fail the batch
            decoded.malformed.append((message_id, f"unexpected {type(error).__name__}: {error}"))
            continue
        if isinstance(outcome, Ignored):
            decoded.ignored.append((message_id, outcome.reason))
            continue
        if not is_ours(outcome, region, account):
            decoded.foreign.append((message_id, outcome))
        else:
            decoded.notices.append((message_id, outcome))
    return decoded


@dataclass
class BatchResult:
    succeeded: list[str]
    failed: list[str]
    decoded: Decoded
    counts: Counter = field(default_factory=Counter)
    messages: list[SlackMessage] = field(default_factory=list)  # accepted by Slack
    outcomes: tuple[ActionOutcome, ...] = ()
    kube_requests: int = 0
    errors: list[str] = field(default_factory=list)


def _best_effort(result: "BatchResult", what: str, step: Callable[[], object]):
    try:
        return step()
    except Exception as error:  # noqa: BLE001 - after the alert: reported, never a reason to alert again
        result.errors.append(f"{what}: {type(error).__name__}: {error}")
        return None


def _act_or_report(act: Callable[[NodeAction], ActionOutcome], action: NodeAction) -> ActionOutcome:
    """An action that fails is reported in the alert, never a reason to hold the alert back."""
    try:
        return act(action)
    except Exception as error:  # noqa: BLE001 - any failure of one node's action is that node's outcome
        return ActionOutcome(action.node, action.action, dry_run=False, failed=(f"{type(error).__name__}: {error}",))


def _deliver(planned: list[tuple[SlackMessage, frozenset]], send: Callable[[SlackMessage], object],
             result: BatchResult) -> set[str]:
    """Send the parts in order, stopping at the first Slack refuses; returns the event ids left unalerted."""
    for index, (message, _) in enumerate(planned):
        try:
            send(message)
        except Exception as error:  # noqa: BLE001 - reported as failed items, so SQS redelivers them
            result.errors.append(f"Slack: {error}")
            return set().union(*(ids for _, ids in planned[index:]))
        result.messages.append(message)
    return set()


def process_batch(records: Sequence[dict], region: str, ports: InterruptionPorts) -> BatchResult:
    decoded = decode_records(records, region)
    by_event: dict[str, Notice] = {}
    messages_of: dict[str, list[str]] = {}
    for message_id, notice in decoded.notices:
        by_event.setdefault(notice.event_id, notice)  # the same event twice in one batch: one alert
        messages_of.setdefault(notice.event_id, []).append(message_id)
    unique = list(by_event.values())
    counts = Counter({"ignored": len(decoded.ignored), "malformed": len(decoded.malformed),
                      "foreign": len(decoded.foreign)})
    counts.update(f"kind.{notice.kind.value}" for notice in unique)

    claims = ports.ledger.claim_all(unique)
    new = [notice for notice, claim in zip(unique, claims) if claim is Claim.NEW]
    busy = [notice for notice, claim in zip(unique, claims) if claim is Claim.BUSY]
    counts["already_alerted"] = sum(claim is Claim.DONE for claim in claims)
    counts["busy"] = len(busy)
    failed_events = {notice.event_id for notice in busy}
    result = BatchResult(succeeded=[], failed=[], decoded=decoded, counts=counts)

    try:
        snapshot = ports.cluster.read_snapshot() if new else None
    except Exception as error:  # noqa: BLE001 - the API is down beyond the client's retries: the brief alert
        ports.ledger.release_all(new, error)  # the full alert is still owed: the retry claims again
        _alert_unreachable(new, error, ports, result)
        failed_events |= {notice.event_id for notice in new}
        new = []
    if new and snapshot is not None:
        try:
            result.kube_requests = snapshot.requests
            recalled = ports.records.recall(sorted({i for notice in new for i in notice.instance_ids}))
            checked = checked_objects(snapshot.nodes, snapshot.claims, snapshot.pods, new)  # one bad object: its own
            result.errors += checked.errors
            correlation = correlate(new, checked.nodes, checked.claims, checked.pods,
                                    remembered={i: facts for i, (facts, _) in recalled.items()},
                                    remembered_replicas={i: replicas for i, (_, replicas) in recalled.items()})
            counts["not_in_cluster"] = len(correlation.not_in_cluster)
            counts["karpenter_disruptions"] = len(correlation.disrupted)
            counts["maintenance_closed"] = len(correlation.closed)
            batch_counts = BatchCounts(ignored=len(decoded.ignored), malformed=len(decoded.malformed),
                                       foreign=len(decoded.foreign))
            planned = plan_messages(correlation, ports.clock(), ports.cluster_name, batch_counts)
            planned += closed_messages(correlation.closed, ports.cluster_name)
            planned += isolation_messages(correlation, checked, ports.cluster_name, ports.clock())
        except Exception as error:
            ports.ledger.release_all(new, error)  # nothing was sent: the redelivery starts from scratch
            raise
        undelivered = _deliver(planned, ports.notifier.send, result)
        counts["alerts_sent"] = len(result.messages)
        settled = [notice for notice in new if notice.event_id not in undelivered]
        unsent = [notice for notice in new if notice.event_id in undelivered]
        ports.ledger.done_all(settled)
        if unsent:
            ports.ledger.release_all(unsent, RuntimeError(result.errors[-1]))
        failed_events |= undelivered
        _best_effort(result, "after the alert",
                     lambda: _after_alert(correlation, set(recalled), {n.event_id for n in settled}, ports, result))

    for event_id, message_ids in messages_of.items():
        (result.failed if event_id in failed_events else result.succeeded).extend(message_ids)
    result.succeeded += [mid for mid, _ in decoded.ignored + decoded.malformed]
    result.succeeded += [mid for mid, _ in decoded.foreign]
    return result


def _alert_unreachable(new: list[Notice], error: Exception, ports: InterruptionPorts, result: BatchResult) -> None:
    """Send what the events say, once per event (its own idempotency record), marked "cluster unreachable"."""
    result.errors.append(f"Kubernetes: {type(error).__name__}: {error}")
    result.counts["cluster_unreachable"] = len(new)
    briefs = [brief_notice(notice) for notice in new]
    fresh = [brief for brief, claim in zip(briefs, ports.ledger.claim_all(briefs)) if claim is Claim.NEW]
    if not fresh:
        return
    message = unreachable_message(fresh, ports.cluster_name, ports.clock())
    try:
        ports.notifier.send(message)
    except Exception as refused:  # noqa: BLE001 - the messages are failed anyway: the retry sends it again
        result.errors.append(f"Slack: {refused}")
        ports.ledger.release_all(fresh, refused)
        return
    result.messages.append(message)
    result.counts["alerts_sent"] += 1
    ports.ledger.done_all(fresh)


def _after_alert(correlation: Correlation, recalled: set[str], settled: set[str], ports: InterruptionPorts,
                 result: BatchResult) -> None:
    """Remember, count, record Events, act and report the actions, for the notices whose alert was accepted."""
    now = ports.clock()
    impacts = [impact for impact in correlation.impacts if impact.ids & settled]
    disrupted = [impact for impact in correlation.disrupted if impact.ids & settled]
    first_seen = [impact for impact in impacts + disrupted
                  if impact.node.instance_id not in recalled and not impact.node.remembered]
    if first_seen:
        _best_effort(result, "remembering hit instances", lambda: ports.records.remember(first_seen))
    # Karpenter's disruptions count once per instance: at its first notice, not its paired follow-up.
    newly_disrupted = [impact for impact in disrupted if impact.node.instance_id not in recalled]
    if newly_disrupted:
        _best_effort(result, "counting Karpenter disruptions", lambda: ports.records.add_counts(
            table_keys.disrupted_key(now.date()), records.disruption_counts(newly_disrupted),
            records.DISRUPTED_LIFETIME))
    spot = records.spot_counts(impacts)
    if spot:
        _best_effort(result, "counting spot warnings",
                     lambda: ports.records.add_counts(table_keys.spot_key(now), spot, records.SPOT_LIFETIME))
    bodies, left_out = plan_events(impacts, now)
    result.counts["node_events"] = len(bodies)
    result.counts["node_events_left_out"] = left_out
    problems = _best_effort(result, "recording node Events", lambda: ports.cluster.record_events(bodies)) or []
    result.errors.extend(problems)
    result.kube_requests += len(bodies)

    actions = ports.plan_actions(tuple(impacts))
    if not actions:
        return
    with ThreadPoolExecutor(max(1, min(ports.action_workers, len(actions)))) as pool:
        result.outcomes = tuple(pool.map(lambda action: _act_or_report(ports.cluster.act, action), actions))
    follow_up = actions_message(result.outcomes, thread_keys(correlation))
    if follow_up is not None:
        try:
            ports.notifier.send(follow_up)
            result.messages.append(follow_up)
        except Exception as error:  # noqa: BLE001 - the alert is out; the action report is logged instead
            result.errors.append(f"Slack (actions report): {error}")
