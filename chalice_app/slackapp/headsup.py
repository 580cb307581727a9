"""The evening heads-up (pure): shortly before downtime, which functions are about to be parked, with buttons to
keep them up — so a click before 19:00 keeps a function up through the 19:05 run instead of restoring it after.

Sent by the last off-hours run(s) within HEADS_UP_BEFORE of a downtime start, once per start (the caller claims
it in the stage table).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalice_app.offhours.model import FunctionDeployment
from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.offhours.policy import Defaults, PolicyError
from chalice_app.slack.message import MAX_HEADER_TEXT, SlackMessage
from chalice_app.slack.text import clip, code, fit_text
from chalice_app.slackapp.buttons import keep_buttons, with_buttons
from chalice_app.slackapp.decide import function_policy

HEADS_UP_BEFORE = timedelta(minutes=10)  # two 5-minute runs: one of them sees it
SHOWN = 25


def going_down(functions: list[FunctionDeployment], namespaces: dict[str, dict[str, str]], now: datetime,
               defaults: Defaults) -> tuple[datetime | None, list[FunctionDeployment]]:
    """The earliest downtime start within HEADS_UP_BEFORE, and the running functions that go down then."""
    found: list[tuple[datetime, FunctionDeployment]] = []
    for function in functions:
        if function.replicas == 0 or ORIGINAL_REPLICAS in function.annotations or function.scale_zero == "false":
            continue
        try:
            policy = function_policy(function, namespaces.get(function.namespace), defaults)
        except PolicyError:
            continue
        if policy.in_downtime(now) or policy.excluded(now + HEADS_UP_BEFORE):
            continue
        change = policy.next_change(now)
        if change is not None and change <= now + HEADS_UP_BEFORE and not policy.excluded(change):
            found.append((change, function))
    if not found:
        return None, []
    start = min(change for change, _ in found)
    return start, sorted((f for change, f in found if change == start), key=lambda f: f.key)


def heads_up_message(start: datetime, functions: list[FunctionDeployment], namespaces: dict[str, dict[str, str]],
                     now: datetime, defaults: Defaults, keep_hours: int, zone) -> SlackMessage:
    local = start.astimezone(zone)
    title = f"costguard off-hours: {len(functions)} functions park at {local:%H:%M} {local.tzname()}"
    names = ", ".join(code(f"{f.namespace}/{f.name}") for f in functions[:SHOWN])
    more = f" and {len(functions) - SHOWN} more" if len(functions) > SHOWN else ""
    text = (f"In a few minutes off-hours scales these to zero: {names}{more}. Need one tonight? Keep it up "
            f"(or `/costguard keep &lt;function&gt; 3h`).")
    message = SlackMessage(title, [{"type": "header", "text": {"type": "plain_text", "text": clip(title, MAX_HEADER_TEXT)}},
                                   {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text)}}])
    return with_buttons(message, keep_buttons(functions, namespaces, now, defaults, keep_hours, zone)) or message
