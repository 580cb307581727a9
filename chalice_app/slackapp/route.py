"""Entry for the Slack actions route (app.py wires API Gateway's request here): one SlackActions per container."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Mapping

from chalice_app.config import settings as current_settings
from chalice_app.observability import logger
from chalice_app.slackapp.service import HttpAnswer, SlackActions

# The clock of the route; the sandbox replaces it with its simulated time (the signatures it makes use the same).
clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
_actions: list[SlackActions] = []


def reset() -> None:
    """Forget the per-container SlackActions and user-group members (settings changed: tests, the sandbox)."""
    from chalice_app.slackapp.service import _GROUP_CACHE

    _actions.clear()
    _GROUP_CACHE.clear()


def handle(body: bytes | None, headers: Mapping[str, str]) -> HttpAnswer:
    if not _actions:
        _actions.append(SlackActions.from_settings(current_settings()))
    try:
        return _actions[0].handle(body or b"", headers, now=clock())
    except Exception:  # noqa: BLE001 - Slack sees a plain 500; the details (no secrets in them) are logged
        logger.exception("slack route failed")
        return HttpAnswer(500, {"response_type": "ephemeral", "text": "costguard could not finish; see /costguard status"})
