"""Block Kit for one batch: grouped by kind and NodePool, a few nodes in detail, every other one counted.

Pure: correlation + clock → blocks. A burst of thousands of nodes stays a handful of blocks because each group
shows at most a few nodes in full and summarizes the rest (counts by instance type and zone, instance ids as far
as the text limit allows, then "…and N more"); `chunking.split_blocks` cuts what is left into ≤ 50-block messages.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Sequence


from chalice_app.interruptions.actions import ActionOutcome
from chalice_app.interruptions.correlation import Correlation, FunctionRisk, NodeImpact, node_age
from chalice_app.interruptions.notice import KIND_ORDER, NoticeKind
from chalice_app.kube.names import STATIC_POOL
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_HEADER_TEXT, MAX_SECTION_TEXT
from chalice_app.slack.text import escape_mrkdwn as esc, fit_lines, fit_words, left_out

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

DETAILED_NODES_PER_MESSAGE = 12  # nodes shown in full per batch; the rest are counted
DETAILED_FUNCTIONS_PER_NODE = 6
COLD_START_HINT = ("Async invocations (queue-worker) and retries ride out the 45–70 s cold start of a new node; "
                   "synchronous callers of a function marked :warning: see errors until a replacement is Ready.")
KIND_TITLES = {
    NoticeKind.SPOT_INTERRUPTION: "Spot interruption warning",
    NoticeKind.CAPACITY_RESERVATION_INTERRUPTION: "Capacity Reservation interruption warning",
    NoticeKind.INSTANCE_TERMINATED: "Instance terminated",
    NoticeKind.INSTANCE_STOPPED: "Instance stopped",
    NoticeKind.REBALANCE_RECOMMENDATION: "Rebalance recommendation",
    NoticeKind.SCHEDULED_CHANGE: "Scheduled maintenance (AWS Health)",
}


@dataclass(frozen=True)
class BatchCounts:
    ignored: int = 0
    malformed: int = 0
    foreign: int = 0  # other account or region


def date_token(moment: datetime, fallback_format: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    """A Slack date token: every reader sees the time in their own zone, plus how far away it is."""
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time_secs}} ({{ago}})|{moment.strftime(fallback_format)}>"


def _age(delta: timedelta | None) -> str:
    if delta is None:
        return "unknown"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


def _risk_text(risk: FunctionRisk | None) -> str:
    if risk is None:  # a remembered node: its pods are gone, the function has none on this batch's nodes
        return "its pods have moved on since"
    line = f"{risk.on_affected} on affected nodes, {risk.ready_total} ready in total"
    if risk.unavailable_until_rescheduled:
        line += " — :warning: *unavailable until rescheduled*"
    return line


def group_impacts(impacts: Iterable[NodeImpact]) -> list[tuple[NoticeKind, str, list[NodeImpact]]]:
    """(kind, NodePool, impacts) groups, most urgent kind first, then the largest pools."""
    groups: dict[tuple[NoticeKind, str], list[NodeImpact]] = defaultdict(list)
    for impact in impacts:
        groups[(impact.notice.kind, esc(impact.node.nodepool or STATIC_POOL))].append(impact)
    order = {kind: index for index, kind in enumerate(KIND_ORDER)}
    return [(kind, pool, members) for (kind, pool), members in
            sorted(groups.items(), key=lambda item: (order[item[0][0]], -len(item[1]), item[0][1]))]


def detail_budget(group_sizes: Sequence[int], budget: int = DETAILED_NODES_PER_MESSAGE) -> list[int]:
    """How many nodes each group shows in full: one each first (if the budget allows), then in order."""
    shares = [0] * len(group_sizes)
    for index, size in enumerate(group_sizes):
        if budget and size:
            shares[index] = 1
            budget -= 1
    for index, size in enumerate(group_sizes):
        extra = min(size - shares[index], budget)
        shares[index] += extra
        budget -= extra
    return shares


def node_section(impact: NodeImpact, risks: dict, now: datetime) -> SectionBlock:
    node = impact.node
    deadline = impact.notice.deadline
    lines = [f"*{node.instance_id}* · `{esc(node.name)}`"]
    if impact.notice.hibernates:
        lines.append(":zzz: *hibernating now*: AWS gives no two-minute warning before a hibernation")
    if node.remembered:
        lines.append("_node already gone from Kubernetes: as recorded at this instance's first notice_")
    for function, count in impact.replicas[:DETAILED_FUNCTIONS_PER_NODE]:
        where = "there when first hit" if node.remembered else "here"
        lines.append(f"• `{esc(function)}`: {count} {where}; {_risk_text(risks.get(function))}")
    if len(impact.replicas) > DETAILED_FUNCTIONS_PER_NODE:
        lines.append("• " + left_out(len(impact.replicas) - DETAILED_FUNCTIONS_PER_NODE, "more functions"))
    if not impact.replicas:
        lines.append("• no OpenFaaS function pods on this node")
    fields = [
        f"*Type*\n{esc(node.instance_type)}", f"*Zone*\n{esc(node.zone)}", f"*Capacity*\n{esc(node.capacity_type)}",
        f"*NodePool*\n{esc(node.nodepool or STATIC_POOL)}" + (f" / {esc(node.nodeclaim)}" if node.nodeclaim else ""),
        f"*Deadline*\n{date_token(deadline) if deadline else 'not given'}", f"*Node age*\n{_age(node_age(node, now))}",
    ]
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(lines)),
                        fields=[kit.MarkdownTextObject(text=field) for field in fields])


def tail_section(rest: Sequence[NodeImpact]) -> SectionBlock:
    # Counted raw, escaped once per name shown (escaping is one-to-one: the counts are the same).
    types = Counter(impact.node.instance_type for impact in rest)
    zones = Counter(impact.node.zone for impact in rest)
    head = (f"*+{len(rest)} more nodes* · types: "
            + ", ".join(f"{esc(name)} ×{count}" for name, count in types.most_common(8))
            + (f", +{len(types) - 8} types" if len(types) > 8 else "")
            + " · zones: " + ", ".join(f"{esc(name)} ×{count}" for name, count in zones.most_common(6)))
    ids = fit_words([impact.node.instance_id for impact in rest], MAX_SECTION_TEXT - len(head) - 10, "instances")
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=f"{head}\n{ids}"))


def functions_section(risks: dict) -> SectionBlock | None:
    if not risks:
        return None
    ordered = sorted(risks.values(), key=lambda r: (not r.unavailable_until_rescheduled, -r.on_affected,
                                                    str(r.function)))
    lines = [f"• `{esc(risk.function)}`: {_risk_text(risk)}" for risk in ordered]
    unavailable = sum(risk.unavailable_until_rescheduled for risk in ordered)
    title = f"*Functions with pods on these nodes: {len(ordered)}* ({unavailable} unavailable until rescheduled)"
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines([title, *lines], noun="more functions")))


def actions_section(outcomes: Sequence[ActionOutcome]) -> SectionBlock | None:
    if not outcomes:
        return None
    lines = []
    for outcome in outcomes:
        verb = "would" if outcome.dry_run else "did"
        parts = [f"{outcome.action.value}"]
        if outcome.evicted:
            parts.append(f"{len(outcome.evicted)} pods evicted" if not outcome.dry_run
                         else f"{len(outcome.evicted)} pods to evict")
        if outcome.blocked:
            parts.append(f"{len(outcome.blocked)} blocked by PodDisruptionBudget: "
                         f"{esc(', '.join(outcome.blocked[:5]))}")
        if outcome.skipped:
            parts.append(f"{len(outcome.skipped)} left alone (karpenter.sh/do-not-disrupt)")
        if outcome.failed:
            parts.append(f"failed: {esc('; '.join(outcome.failed[:3]))}")
        lines.append(f"• `{esc(outcome.node)}` ({verb}): " + ", ".join(parts))
    prefix = "*Actions (dry run)*" if all(o.dry_run for o in outcomes) else "*Actions*"
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines([prefix, *lines], noun="more nodes")))


def kind_counts(impacts: Iterable[NodeImpact]) -> Counter:
    return Counter(impact.notice.kind for impact in impacts)


def header_text(correlation: Correlation) -> str:
    nodes = len({impact.node.name for impact in correlation.impacts})
    unavailable = sum(risk.unavailable_until_rescheduled for risk in correlation.risks.values())
    functions = len(correlation.risks)
    text = f"{nodes} node{'s' if nodes != 1 else ''} hit · {functions} function{'s' if functions != 1 else ''} affected"
    if unavailable:
        text += f" · {unavailable} unavailable"
    return text[:MAX_HEADER_TEXT]


def summary_context(correlation: Correlation, counts: BatchCounts, cluster: str) -> ContextBlock:
    by_kind = kind_counts(correlation.impacts)
    parts = [f"{KIND_TITLES[kind]} ×{by_kind[kind]}" for kind in KIND_ORDER if by_kind[kind]]
    parts.append(f"cluster {esc(cluster)}")
    if correlation.not_in_cluster:
        parts.append(f"{len(correlation.not_in_cluster)} instances not in this cluster")
    for label, value in (("ignored", counts.ignored), ("malformed", counts.malformed),
                         ("other account/region", counts.foreign)):
        if value:
            parts.append(f"{value} {label}")
    return kit.ContextBlock(elements=[kit.MarkdownTextObject(text=fit_words(parts, MAX_SECTION_TEXT, "counts"))])


Owned = tuple[dict, frozenset]  # a block and the event ids of the notices it reports


def batch_blocks(correlation: Correlation, now: datetime, cluster: str, counts: BatchCounts = BatchCounts(),
                 outcomes: Sequence[ActionOutcome] = ()) -> list[Owned]:
    """Every block of the batch's alert, in order, each with the event ids it reports (none for summaries).

    May exceed 50 blocks; chunking cuts it into messages and knows from the ids which notices each one carries.
    """
    none: frozenset = frozenset()
    header = kit.HeaderBlock(text=kit.PlainTextObject(text=header_text(correlation)))
    blocks: list[tuple[Block, frozenset]] = [(header, none), (summary_context(correlation, counts, cluster), none)]
    groups = group_impacts(correlation.impacts)
    shares = detail_budget([len(members) for _, _, members in groups])
    for (kind, pool, members), shown in zip(groups, shares):
        ids = frozenset().union(*(impact.ids for impact in members))
        deadlines = [impact.notice.deadline for impact in members if impact.notice.deadline]
        title = f"*{KIND_TITLES[kind]}* · NodePool *{pool}* · {len(members)} node{'s' if len(members) != 1 else ''}"
        hibernating = sum(impact.notice.hibernates for impact in members)
        if hibernating:
            title += f" · {hibernating} hibernating now (no two-minute warning)"
        if deadlines:
            title += f" · first deadline {date_token(min(deadlines))}"
        blocks += [(kit.DividerBlock(), ids), (kit.SectionBlock(text=kit.MarkdownTextObject(text=title)), ids)]
        blocks += [(node_section(impact, correlation.risks, now), ids) for impact in members[:shown]]
        if len(members) > shown:
            blocks.append((tail_section(members[shown:]), ids))
    for optional in (functions_section(correlation.risks), actions_section(outcomes)):
        if optional is not None:
            blocks += [(kit.DividerBlock(), none), (optional, none)]
    blocks.append((kit.ContextBlock(elements=[kit.MarkdownTextObject(text=COLD_START_HINT)]), none))
    return [(block.to_dict(), ids) for block, ids in blocks]


def fallback_text(correlation: Correlation) -> str:
    """Notification text: what the phone shows, naming the instances so webhook readers can follow one along."""
    by_kind = kind_counts(correlation.impacts)
    parts = [f"{KIND_TITLES[kind]}: {by_kind[kind]}" for kind in KIND_ORDER if by_kind[kind]]
    ids = fit_words(sorted({impact.node.instance_id for impact in correlation.impacts}), 600, "instances")
    return f"{'; '.join(parts)} — {ids}"
