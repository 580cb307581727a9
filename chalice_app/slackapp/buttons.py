"""Buttons on the off-hours summaries (pure), built with slack_sdk's Block Kit models.

Evening (a run that scaled functions down): "Keep <function> up until HH:MM" — the end of its working day + N hours
(COSTGUARD_OFFHOURS_KEEP_HOURS) — and "Keep <namespace> up tonight". Morning (a run that restored functions while
others are still parked): "Wake <function> now". Each button carries a small JSON value the route validates again.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalice_app.offhours.model import FunctionDeployment
from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.offhours.policy import Defaults, PolicyError
from chalice_app.slack import blocks as kit
from chalice_app.slack.message import MAX_BLOCKS, SlackMessage
from chalice_app.slack.text import escape
from chalice_app.slackapp.commands import ACTION_PREFIX, button_value
from chalice_app.slackapp.decide import function_policy, keep_until_default

if TYPE_CHECKING:
    from slack_sdk.models.blocks import ButtonElement

MAX_FUNCTION_BUTTONS = 8  # a summary stays readable; the slash command covers the rest
MAX_BUTTON_TEXT = 75  # Slack's limit for a button's text


def _button(text: str, action: str, value: str, style: str | None = None) -> ButtonElement:
    """`text` names cluster objects: callers escape them (Slack asks for `&`, `<`, `>` escaped in all text)."""
    return kit.ButtonElement(text=text[:MAX_BUTTON_TEXT], action_id=f"{ACTION_PREFIX}{action}"[:255], value=value,
                             style=style)


def keep_buttons(functions: list[FunctionDeployment], namespaces: dict[str, dict[str, str]], now: datetime,
                 defaults: Defaults, keep_hours: int, zone) -> list[ButtonElement]:
    """For functions just scaled down: keep each up until the end of its working day + N hours; then a button per
    namespace to keep it up tonight."""
    buttons = []
    # the busiest first: the functions someone is most likely to need tonight
    for function in sorted(functions, key=lambda f: (-f.replicas, f.key))[:MAX_FUNCTION_BUTTONS]:
        try:
            until = keep_until_default(function_policy(function, namespaces.get(function.namespace), defaults), now,
                                       keep_hours)
        except PolicyError:
            continue
        if until is None:
            continue
        local = until.astimezone(zone)
        buttons.append(_button(f"Keep {escape(function.name)} up until {local:%H:%M}",
                               f"keep:{function.namespace}/{function.name}",
                               button_value("keep", function.namespace, function.name, until)))
    for namespace in sorted({function.namespace for function in functions}):
        buttons.append(_button(f"Keep {escape(namespace)} up tonight", f"keep-namespace:{namespace}",
                               button_value("keep-namespace", namespace), style="primary"))
    return buttons


def wake_buttons(parked: list[FunctionDeployment]) -> list[ButtonElement]:
    return [_button(f"Wake {escape(function.name)} now", f"wake:{function.namespace}/{function.name}",
                    button_value("wake", function.namespace, function.name))
            for function in parked[:MAX_FUNCTION_BUTTONS]]


def with_buttons(message: SlackMessage | None, buttons: list[ButtonElement]) -> SlackMessage | None:
    """The message with one actions block added (before its trailing context block), if there is room."""
    if message is None or not buttons or len(message.blocks) >= MAX_BLOCKS:
        return message
    block = kit.ActionsBlock(block_id="costguard-actions", elements=buttons).to_dict()
    blocks = list(message.blocks)
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "context" else len(blocks)
    return replace(message, blocks=blocks[:at] + [block] + blocks[at:])


def still_parked(functions: list[FunctionDeployment]) -> list[FunctionDeployment]:
    return [function for function in functions if ORIGINAL_REPLICAS in function.annotations]
