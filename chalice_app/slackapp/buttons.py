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
from chalice_app.slack.text import clip, code, escape, fit_words
from chalice_app.slackapp.commands import ACTION_PREFIX, button_value
from chalice_app.slackapp.decide import function_policy, keep_until_default

if TYPE_CHECKING:
    from slack_sdk.models.blocks import ButtonElement

MAX_FUNCTION_BUTTONS = 8  # a summary stays readable; the slash command covers the rest
# Slack's limits (docs.slack.dev/reference/block-kit/block-elements/button-element, /blocks/actions-block): a
# button's text at most 75 characters, an actions block at most 25 elements.
MAX_BUTTON_TEXT = 75
MAX_ACTIONS_ELEMENTS = 25
LEFT_OUT_TEXT = 1000  # the note naming the buttons past MAX_ACTIONS_ELEMENTS


def _label(verb: str, name: str, rest: str) -> str:
    """`<verb> <name> <rest>` within MAX_BUTTON_TEXT: a long name is cut ("…"), never the time after it.
    `name` names a cluster object: escaped (Slack asks for `&`, `<`, `>` escaped in all text)."""
    room = MAX_BUTTON_TEXT - len(verb) - len(rest) - 2
    return f"{verb} {clip(escape(name), room)} {rest}"


def _button(text: str, action: str, value: str, style: str | None = None) -> ButtonElement:
    # action_id: unique in the block (one per function or namespace), at most 10 + 15 + 63 + 1 + 63 characters
    return kit.ButtonElement(text=text, action_id=f"{ACTION_PREFIX}{action}", value=value, style=style)


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
        buttons.append(_button(_label("Keep", function.name, f"up until {local:%H:%M}"),
                               f"keep:{function.namespace}/{function.name}",
                               button_value("keep", function.namespace, function.name, until)))
    for namespace in sorted({function.namespace for function in functions}):
        buttons.append(_button(_label("Keep", namespace, "up tonight"), f"keep-namespace:{namespace}",
                               button_value("keep-namespace", namespace), style="primary"))
    return buttons


def wake_buttons(parked: list[FunctionDeployment]) -> list[ButtonElement]:
    return [_button(_label("Wake", function.name, "now"), f"wake:{function.namespace}/{function.name}",
                    button_value("wake", function.namespace, function.name))
            for function in parked[:MAX_FUNCTION_BUTTONS]]


def with_buttons(message: SlackMessage | None, buttons: list[ButtonElement]) -> SlackMessage | None:
    """The message with one actions block added (before its trailing context block), if there is room. Past
    Slack's 25 elements a block, a context block names the buttons left out."""
    shown, left_out = buttons[:MAX_ACTIONS_ELEMENTS], buttons[MAX_ACTIONS_ELEMENTS:]
    added = [kit.ActionsBlock(block_id="costguard-actions", elements=shown).to_dict()] if shown else []
    if left_out:
        # by the action_id's verb and target (a button's text may have its name cut)
        targets = [str(button.action_id).removeprefix(ACTION_PREFIX).partition(":") for button in left_out]
        named = [f"{verb} {code(target)}" for verb, _, target in targets]
        note = (f"{len(left_out)} more buttons (Slack shows at most {MAX_ACTIONS_ELEMENTS}): "
                f"{fit_words(named, LEFT_OUT_TEXT, 'buttons')}. "
                "`/costguard keep &lt;namespace&gt;/&lt;function&gt; &lt;duration&gt;` keeps any function up.")
        added.append(kit.ContextBlock(elements=[kit.MarkdownTextObject(text=note)]).to_dict())
    if message is None or not added or len(message.blocks) + len(added) > MAX_BLOCKS:
        return message
    blocks = list(message.blocks)
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "context" else len(blocks)
    return replace(message, blocks=blocks[:at] + added + blocks[at:])


def still_parked(functions: list[FunctionDeployment]) -> list[FunctionDeployment]:
    return [function for function in functions if ORIGINAL_REPLICAS in function.annotations]
