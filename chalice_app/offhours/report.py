"""Slack messages for an off-hours run (pure): a summary when something changed, an alert when the cap bit."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice_app.offhours.planner import UNRECORDED, FunctionAction, Kind
from chalice_app.offhours.reconcile import RunReport
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_HEADER_TEXT, SlackMessage
from chalice_app.slack.text import clip, escape_mrkdwn as escape, fit_message, fit_text, titled_list

if TYPE_CHECKING:
    from slack_sdk.models.blocks import Block, SectionBlock

SHOWN_PER_SECTION = 25
DELETED_TITLE = "Empty NodeClaims deleted (COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS): Karpenter terminates them"  # names listed per section before "and N more"


def _mrkdwn(text: str) -> SectionBlock:
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=fit_text(text)))


def _section(title: str, lines: list[str]) -> SectionBlock:
    return kit.SectionBlock(text=kit.MarkdownTextObject(text=titled_list(title, lines, shown=SHOWN_PER_SECTION)))


def _message(text: str, blocks: list[Block]) -> SlackMessage:
    return SlackMessage(text=text, blocks=[block.to_dict() for block in blocks])


def _name(action: FunctionAction) -> str:
    return f"`{escape(action.namespace)}/{escape(action.name)}`"


def _capped(action: FunctionAction) -> str:
    said = f" ({UNRECORDED})" if action.unrecorded else ""
    if action.capped_from is None:
        return said
    return said + (f" (capped: {action.capped_from} stored, at most {action.desired} by the "
                   f"{escape(action.cap_source)})")


def summary_message(report: RunReport) -> SlackMessage | None:
    """What the run changed, skipped and failed; None when it changed nothing and no write or list failed."""
    down, restored = report.applied(Kind.SCALE_DOWN), report.applied(Kind.RESTORE)
    reparked = report.applied(Kind.REPARK)
    released = report.applied(Kind.RELEASE)
    # Human-scaled first: those are the ones someone may want to look at.
    skipped = sorted(report.plan.of(Kind.SKIP), key=lambda action: "by someone" not in action.reason)
    deferred = report.plan.of(Kind.DEFERRED)
    errors = report.errors
    pools = [(action, error) for action, error in report.nodepools if action.writes and error is None]
    # Bad annotations alone would repeat every 5 minutes: they ride along with a change, and are logged each run.
    failed_writes = any(o.error for o in report.outcomes) or any(error for _, error in report.nodepools)
    failed_reads = bool(report.read_errors)  # a list that fails is an outage: say so even if nothing changed
    if not (report.changed or failed_writes or failed_reads):
        return None
    prefix = "[dry run] " if report.dry_run else ""
    title = clip(f"{prefix}costguard off-hours: {len(down)} scaled down, {len(restored)} restored, "
                 f"{len(errors)} errors", MAX_HEADER_TEXT)
    blocks: list[Block] = [kit.HeaderBlock(text=title)]
    sections = [
        ("Scaled down", [f"{_name(a)} {a.current} → {a.desired}" for a in down]),
        ("Restored", [f"{_name(a)} {a.current} → {a.desired}" + _capped(a) for a in restored]),
        ("Parked again", [f"{_name(a)} {a.current} → {a.desired}: {escape(a.reason)}" for a in reparked]),
        ("Woken at night, up until idle", [f"{_name(a)}: {escape(a.reason)}" for a in report.plan.of(Kind.AWAKE)]),
        ("Managed by GitOps: make it ignore replicas and limits (README, GitOps)",
         sorted({f"{_name(a)}: {escape(a.gitops)}" for a in down + restored + reparked if a.gitops})),
        ("Notes", [escape(note) for note in report.notes]),
        ("Nodes parked pools still run", [escape(stay.line()) for stay in report.nodes]),
        (DELETED_TITLE, [escape(deletion.line()) for deletion in report.deleted_nodeclaims]),
        ("Kept a human's count", [f"{_name(a)} at {a.current}" for a in released]),
        ("Skipped", [f"{_name(a)}: {escape(a.reason)}" for a in skipped]),
        ("Held back by the per-run cap", [_name(a) for a in deferred]),
        ("NodePools", [f"`{escape(a.name)}` {a.kind}: " + escape(a.reason if a.static else
                                                               f"limits {a.limits} → {a.desired}")
                       + (f" (managed by {escape(a.gitops)})" if a.gitops else "") for a, _ in pools]),
        ("Errors", [f"`{escape(where)}`: {escape(message)}" for where, message in errors]),
    ]
    blocks += [_section(title_, lines) for title_, lines in sections if lines]
    blocks.append(kit.ContextBlock(elements=[kit.MarkdownTextObject(text=f"run at {report.now.isoformat()}")]))
    return fit_message(_message(title, blocks))  # thirteen lists of 3,000 would pass Slack's total


def cap_alert(report: RunReport) -> SlackMessage | None:
    """An alert when more changes were wanted than COSTGUARD_OFFHOURS_MAX_CHANGES allows."""
    if not report.plan.capped:
        return None
    wanted = len(report.plan.changes) + len(report.plan.of(Kind.DEFERRED))
    text = (f":warning: costguard off-hours wanted {wanted} changes, more than the cap of {report.plan.cap}; "
            f"{len(report.plan.of(Kind.DEFERRED))} held back to the next run (restores go first). "
            f"Raise COSTGUARD_OFFHOURS_MAX_CHANGES if this is expected.")
    return _message(text, [_mrkdwn(text)])


def held_note(report: RunReport) -> SlackMessage | None:
    """Once a day: the functions this OpenFaaS cannot hold at zero, why, and the fix."""
    held = report.plan.of(Kind.HOLD)
    if not held:
        return None
    reasons = sorted({action.reason.split(": ", 1)[-1] for action in held})
    text = (f"costguard off-hours: {len(held)} function(s) stay up at night because this OpenFaaS cannot hold them "
            f"at zero ({escape(report.capabilities.edition)}; {escape(report.capabilities.source)}); costguard does "
            f"not patch them again.")
    return _message(text, [_mrkdwn(text), _section("Why, and the fix", [escape(reason) for reason in reasons]),
                           _section("Functions", [_name(action) for action in held])])


def nodes_note(report: RunReport) -> SlackMessage | None:
    """Once a night: nodes that parked NodePools still have, why each stays, and what they cost per hour."""
    if not report.nodes and not report.deleted_nodeclaims:
        return None
    deleted = [_section(DELETED_TITLE, [escape(deletion.line()) for deletion in report.deleted_nodeclaims])
               ] if report.deleted_nodeclaims else []
    if not report.nodes:
        text = (f"costguard off-hours: {len(report.deleted_nodeclaims)} empty NodeClaim(s) of parked NodePools "
                f"deleted; Karpenter terminates their instances.")
        return _message(text, [_mrkdwn(text), *deleted])
    known = [stay.cost_per_hour for stay in report.nodes if stay.cost_per_hour is not None]
    cost = f"${sum(known):.2f}/h" + ("" if len(known) == len(report.nodes) else " (some prices unknown)")
    text = (f"costguard off-hours: {len(report.nodes)} node(s) of parked NodePools are still running ({cost}); "
            f"Karpenter does not remove them, for the reasons below.")
    return _message(text, [_mrkdwn(text),
                           _section("Nodes that stay", [f"`{escape(stay.node)}` {escape(stay.line().split(': ', 1)[0])}: "
                                                        f"{escape('; '.join(stay.reasons))}" for stay in report.nodes]),
                           *deleted])
