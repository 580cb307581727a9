"""Digests from the stage table's counters: Karpenter's own disruptions of a day (aws/karpenter-provider-aws#8662)
and the spot types and zones reclaimed most over recent weeks (aws/karpenter-provider-aws#6425). Pure: counters in,
Slack messages and table rows out."""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Mapping, Sequence


from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_HEADER_TEXT, SlackMessage
from chalice_app.slack.text import escape_mrkdwn as esc, fit_lines, fit_words

TOP = 5


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _by_reason(counts: Counter) -> str:
    reasons: Counter = Counter()
    for (_, reason), count in counts.items():
        reasons[reason] += count
    return ", ".join(f"{count} {esc(reason).lower()}" for reason, count in reasons.most_common())


def karpenter_summary(counts: Counter, day: date) -> str | None:
    """ "Karpenter replaced 14 nodes on 2026-11-24: 10 underutilized, 3 empty, 1 drifted" (None when none)."""
    total = sum(counts.values())
    if not total:
        return None
    return f"Karpenter replaced {_plural(total, 'node')} on {day.isoformat()}: {_by_reason(counts)}"


def karpenter_digest(counts: Counter, day: date, cluster: str) -> SlackMessage | None:
    """Counter[(NodePool, reason)] of one day → one message, a line per NodePool; None when nothing happened."""
    summary = karpenter_summary(counts, day)
    if summary is None:
        return None
    pools: dict[str, Counter] = {}
    for (pool, reason), count in counts.items():
        pools.setdefault(pool, Counter())[(pool, reason)] += count
    lines = [f"• NodePool *{esc(pool)}*: {_by_reason(per_pool)}"
             for pool, per_pool in sorted(pools.items(), key=lambda item: -sum(item[1].values()))]
    blocks = [kit.HeaderBlock(text=kit.PlainTextObject(text=summary[:MAX_HEADER_TEXT])),
              kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(lines, noun="more NodePools"))),
              kit.ContextBlock(elements=[kit.MarkdownTextObject(
                  text=f"cluster {esc(cluster)} · Karpenter's own disruptions (consolidation, drift, expiry): "
                       f"no interruption alert was sent for these")])]
    return SlackMessage(text=summary, blocks=[block.to_dict() for block in blocks])


def totals(weeks: Mapping[str, Counter]) -> tuple[Counter, Counter, Counter]:
    """(per instance type, per zone, per type and zone) over the given weeks."""
    types: Counter = Counter()
    zones: Counter = Counter()
    pairs: Counter = Counter()
    for counts in weeks.values():
        for (instance_type, zone), count in counts.items():
            types[instance_type] += count
            zones[zone] += count
            pairs[(instance_type, zone)] += count
    return types, zones, pairs


def history_rows(weeks: Sequence[str], counts: Mapping[str, Counter]) -> list[tuple[str, int, str]]:
    """(week, spot warnings, most reclaimed type/zone) newest first, a row for every week asked for."""
    rows = []
    for week in weeks:
        week_counts = counts.get(week, Counter())
        top = ", ".join(f"{t} in {z} ×{n}" for (t, z), n in week_counts.most_common(3))
        rows.append((week, sum(week_counts.values()), top or "-"))
    return rows


def spot_digest(counts: Mapping[str, Counter], cluster: str, weeks: int) -> SlackMessage | None:
    """The most reclaimed spot instance types and zones over `weeks`; None when there were no warnings."""
    types, zones, pairs = totals(counts)
    total = sum(types.values())
    if not total:
        return None
    title = f"Spot reclaims, last {_plural(weeks, 'week')}: {_plural(total, 'warning')}"
    lines = [
        "*Most reclaimed types:* " + fit_words([f"{esc(t)} ×{n}" for t, n in types.most_common(TOP)], 900, "types"),
        "*Zones:* " + fit_words([f"{esc(z)} ×{n}" for z, n in zones.most_common(TOP)], 900, "zones"),
        "*Type in zone:* " + fit_words([f"{esc(t)} in {esc(z)} ×{n}" for (t, z), n in pairs.most_common(TOP)], 900,
                                       "pairs"),
    ]
    blocks = [kit.HeaderBlock(text=kit.PlainTextObject(text=title[:MAX_HEADER_TEXT])),
              kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(lines))),
              kit.ContextBlock(elements=[kit.MarkdownTextObject(
                  text=f"cluster {esc(cluster)} · consider other types or zones in the NodePools that see these")])]
    return SlackMessage(text=title, blocks=[block.to_dict() for block in blocks])
