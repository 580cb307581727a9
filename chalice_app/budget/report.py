"""Slack messages for the budget: the alerts of a run, grouped per NodePool, each with the figures behind it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice_app.budget.alerts import Alert
from chalice_app.budget.planner import BudgetPlan, PoolPlan
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT, SlackMessage
from chalice_app.slack.text import (clip, code, escape, escape_mrkdwn, fit_joined, fit_lines, fit_message, fit_text,
                                    left_out)

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block


def _figures(plan: PoolPlan) -> str:
    line = f"spent {plan.spent:.2f} / {plan.budget:.2f} USD ({plan.spent / plan.budget * 100:.1f} %)"
    decision = plan.decision
    if decision:
        current = "none" if decision.current.cpu is None else f"{decision.current.cpu:g}"
        line += (f" · {decision.remaining:.2f} USD left for {decision.hours_left:.0f} h · "
                 f"{decision.pricing.per_vcpu_hour:.4g} USD/vCPU-h · cpu limit {current} → {decision.proposed.cpu:g}"
                 f" · running {decision.usage_cpu:g} vCPU")
    return line


def budget_message(plan: BudgetPlan, alerts: list[Alert], drivers: dict[str, list[tuple[str, float]]]) -> SlackMessage:
    """One message for the alerts this run may send; `drivers` names the functions behind an over-limit pool."""
    by_pool: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_pool.setdefault(alert.pool, []).append(alert)
    pools = {p.pool: p for p in plan.pools}
    title = f"Budget {plan.period}: " + ", ".join(escape(pool) for pool in sorted(by_pool))
    blocks: list[Block] = [kit.HeaderBlock(text=clip(title, MAX_HEADER_TEXT))]
    for name in sorted(by_pool):
        lines = [a.text for a in by_pool[name]]
        if drivers.get(name):
            named = ", ".join(f"{code(fn)} ({cpu:g} vCPU requested)" for fn, cpu in drivers[name])
            lines.append(f"Functions driving the spend: {named}")
        if name in pools:
            lines.append(f"_{_figures(pools[name])}_")
        blocks.append(kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_lines(lines))))
    mode = "advise mode: nothing was changed" if plan.mode == "advise" else "enforce mode"
    blocks.append(kit.ContextBlock(elements=[kit.MarkdownTextObject(
        text=f"costguard budget · {mode} · {plan.now.isoformat(timespec='minutes')}")]))
    if len(blocks) > MAX_BLOCKS:  # header, pools, context: say how many pools did not fit
        hidden = len(blocks) - MAX_BLOCKS + 1
        blocks = blocks[: MAX_BLOCKS - 2] + [kit.SectionBlock(text=kit.MarkdownTextObject(
            text=left_out(hidden, "more NodePools")))] + blocks[-1:]
    head = f"{title} — "
    text = head + fit_joined([a.text.replace("*", "") for a in alerts], max(0, MAX_SECTION_TEXT - len(head)), " | ",
                             "more alerts")
    # up to 48 pools' sections would pass Slack's total: each is cut to a share, saying how many lines it left out
    return fit_message(SlackMessage(text=clip(text, MAX_SECTION_TEXT), blocks=[b.to_dict() for b in blocks],
                                    thread_keys=(f"budget-{plan.period}",)))


def problem_message(problem: str, at: str) -> SlackMessage:
    """The budget could not be applied at all (document missing or invalid, cluster unreadable)."""
    blocks = [kit.HeaderBlock(text="Budget not applied"),
              kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_text(escape_mrkdwn(problem)))),
              kit.ContextBlock(elements=[kit.MarkdownTextObject(text=f"No NodePool was touched · {at}")])]
    return SlackMessage(text=clip(f"Budget not applied: {escape_mrkdwn(problem)}. No NodePool was touched.",
                                  MAX_SECTION_TEXT),
                        blocks=[b.to_dict() for b in blocks], thread_keys=("budget-problem",))
