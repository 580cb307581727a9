"""slack_sdk's Block Kit models, loaded on first use.

Importing anything under `slack_sdk` runs the package's `__init__`, which loads the whole Web API client; a Lambda
whose run sends nothing (a quiet off-hours tick, a batch of ignored events) should not pay for it at cold start.
The report modules write `kit.SectionBlock(...)` (with `from chalice_app.slack import blocks as kit`) so the models
load when the first block is built; type checkers see the real classes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk.models.blocks import (  # noqa: F401  (re-exported for type checkers)
        ActionsBlock,
        Block,
        ButtonElement,
        ContextBlock,
        DividerBlock,
        HeaderBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
    )


def __getattr__(name: str) -> Any:
    from slack_sdk.models import blocks

    value = getattr(blocks, name)
    globals()[name] = value  # later look-ups skip this hook
    return value
