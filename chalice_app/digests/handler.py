"""Lambda entry for the scheduled digests, every hour: send each due digest (digests/schedule.py) once per period.

Per due digest: claim its period in the stage table (a conditional put: the first tick wins, later ticks skip it),
read its counters, send it. A digest with nothing to report keeps its claim (nothing was lost). When reading or
sending fails the claim is released, so the next hourly tick sends it again, and the run fails (the function's
errors alarm sees it). A crash between the claim and the send loses that period's digest: a digest is a report,
and being sent twice is the worse outcome for it.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Sequence

from chalice_app.conditional import condition_held
from chalice_app.config import Settings, settings as current_settings
from chalice_app.digests.ports import DigestClaimsPort, DigestPorts
from chalice_app.digests.schedule import KARPENTER, DigestSchedule, DueDigest, due_digests
from chalice_app.errors import CostguardError
from chalice_app.failed_run import report_failed_run, settings_and_ports
from chalice_app.interruptions.digest import karpenter_digest, spot_digest
from chalice_app.observability import instrumented, logger
from chalice_app.runlog import record_run_quietly
from chalice_app.slack.message import SlackMessage
from chalice_app.table_keys import SPOT_PREFIX, disrupted_key

CLAIM_LIFETIME = timedelta(days=21)  # longer than any period claimed (a week)


class DigestsNotSent(CostguardError):
    """A due digest could not be read or sent; its claim was released for the next tick."""


class DigestClaims:
    """digest#<kind>#<period> items: claimed with a conditional put, released with a delete."""

    def __init__(self, table_name: str, client):
        self._table = table_name
        self._client = client

    def claim(self, key: str, now: datetime) -> bool:
        item = {"id": {"S": key}, "claimed_at": {"S": now.isoformat()},
                "expiration": {"N": str(int((now + CLAIM_LIFETIME).timestamp()))}}
        return condition_held(self._client, lambda: self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(id)"))

    def release(self, key: str) -> None:
        self._client.delete_item(TableName=self._table, Key={"id": {"S": key}})


def counter_keys(due: DueDigest) -> list[str]:
    return [disrupted_key(due.day)] if due.kind == KARPENTER and due.day else list(due.spot_keys)


def digest_message(due: DueDigest, counts: Mapping[str, Counter], cluster: str, weeks: int) -> SlackMessage | None:
    """The due digest from its counters (key → Counter); None when there is nothing to report."""
    if due.kind == KARPENTER and due.day is not None:
        return karpenter_digest(counts.get(disrupted_key(due.day), Counter()), due.day, cluster)
    return spot_digest({key[len(SPOT_PREFIX):]: counts[key] for key in due.spot_keys if key in counts}, cluster, weeks)


def send_due(due: Sequence[DueDigest], now: datetime, claims: DigestClaimsPort,
             read_counts: Callable[[list[str]], Mapping[str, Counter]], send: Callable[[SlackMessage], object],
             cluster: str, weeks: int) -> tuple[dict[str, str], list[str]]:
    """(what happened to each due digest, the failures)."""
    outcomes: dict[str, str] = {}
    failures: list[str] = []
    for digest in due:
        name = f"{digest.kind} {digest.period}"
        if not claims.claim(digest.claim_key, now):
            outcomes[name] = "already sent"
            continue
        try:
            message = digest_message(digest, read_counts(counter_keys(digest)), cluster, weeks)
            if message is not None:
                send(message)
            outcomes[name] = "sent" if message is not None else "nothing to report"
        except Exception as error:  # noqa: BLE001 - released for the next tick, reported below
            failures.append(f"{name}: {type(error).__name__}: {error}")
            outcomes[name] = "failed, retried next hour"
            try:
                claims.release(digest.claim_key)
            except Exception:  # noqa: BLE001
                logger.exception("could not release a digest's claim: this period's digest is lost",
                                 extra={"key": digest.claim_key})
    return outcomes, failures


def run(settings: Settings, now: datetime, ports: DigestPorts) -> dict:
    """Sends the due digests; a run that fails (the table unreachable, a digest not sent) is reported and raised."""
    try:
        return _run(settings, now, ports)
    except DigestsNotSent:  # the run log has its line with each digest's outcome; Slack refused or the next tick
        raise  # sends it (a message about Slack refusing would go where it was refused)
    except Exception as error:
        report_failed_run("digests", error, settings.table_name, ports.notifier)
        raise


def _run(settings: Settings, now: datetime, ports: DigestPorts) -> dict:
    due = due_digests(now, DigestSchedule.from_settings(settings))
    if not due:
        return {"due": []}
    outcomes, failures = send_due(due, now, ports.claims, ports.counters.counts, ports.notifier.send,
                                  settings.cluster_name, settings.spot_digest_weeks)
    summary = {"due": [f"{d.kind} {d.period}" for d in due], "outcomes": outcomes, "failures": failures}
    logger.info("digests run", extra={"digests": summary})
    record_run_quietly(settings.table_name, "digests", summary, ok=not failures, alerts=failures)
    if failures:
        raise DigestsNotSent("; ".join(failures))
    return summary


@instrumented(correlation_id_path="id")
def handle(event: dict, context) -> dict:
    settings, ports = settings_and_ports("digests", current_settings, DigestPorts.from_settings)
    return run(settings, datetime.now(timezone.utc), ports)
