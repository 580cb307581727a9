"""The one hook the off-hours handler calls after a run: book the savings, then add to the run's Slack summary
what the night saved (morning) and the action buttons (evening: keep up; morning: wake). Never raises: savings and
buttons are extras, and a failure here must not cost the reconcile its summary."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalice_app.config import Settings
from chalice_app.observability import logger
from chalice_app.offhours.planner import Kind
from chalice_app.offhours.policy import Defaults
from chalice_app.savings.ledger import Booking
from chalice_app.savings.report import night_block
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.text import fit_message, fit_text
from chalice_app.slackapp.buttons import keep_buttons, still_parked, wake_buttons, with_buttons
from chalice_app.slackapp.headsup import going_down, heads_up_message
from chalice_app.slackapp.store import SlackStore
from chalice_app.table_keys import heads_up_id


def decorate(message: SlackMessage | None, report, view, booking: Booking | None, settings: Settings,
             namespaces: dict[str, dict[str, str]], now: datetime, weekly: str | None = None) -> SlackMessage | None:
    """The summary with the night's savings (and on Monday mornings the last week's digest) and the buttons
    (pure)."""
    if message is None:
        return None
    if booking is not None and booking.night is not None:
        extra = [night_block(booking.night, booking.night_since, now)]
        if weekly is not None:
            extra.append({"type": "section", "text": {"type": "mrkdwn", "text": fit_text(weekly)}})
        blocks = list(message.blocks)
        at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "context" else len(blocks)
        message = SlackMessage(message.text, blocks[:at] + extra + blocks[at:], message.thread_keys,
                               message.opens_thread)
    if view is None:
        return message
    slim = {(f.namespace, f.name): f for f in view.slim}
    down = [slim[(a.namespace, a.name)] for a in report.applied(Kind.SCALE_DOWN) if (a.namespace, a.name) in slim]
    zone = ZoneInfo(settings.default_timezone)
    if down and not report.dry_run:
        buttons = keep_buttons(down, namespaces, now, Defaults.from_settings(settings),
                               settings.offhours_keep_hours, zone)
    elif report.applied(Kind.RESTORE):
        buttons = wake_buttons(still_parked(view.slim))
    else:
        buttons = []
    decorated = with_buttons(message, buttons)
    return decorated and fit_message(decorated)  # the summary, savings and buttons together within Slack's total


def heads_up(settings: Settings, view, now: datetime, session=None) -> SlackMessage | None:
    """Shortly before a downtime starts: the functions about to be parked, with keep-up buttons (once per start)."""
    defaults = Defaults.from_settings(settings)
    start, functions = going_down(view.slim, view.namespaces, now, defaults)
    if start is None or not functions or settings.dry_run:
        return None
    from chalice_app.savings.service import session_and_store

    session = session_and_store(settings, session)[0]
    if not SlackStore(settings.table_name, session).claim(heads_up_id(start), now):
        return None
    return heads_up_message(start, functions, view.namespaces, now, defaults, settings.offhours_keep_hours,
                            ZoneInfo(settings.default_timezone))


def last_week_digest(settings: Settings, now: datetime, session=None) -> str | None:
    """The weekly digest (the previous ISO week's total and top savers), for the first summary of a Monday."""
    from chalice_app.savings.report import days_between, digest_text
    from chalice_app.savings.service import session_and_store

    monday = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=now.weekday())
    books = session_and_store(settings, session)[1].days(days_between(monday - timedelta(days=7), monday))
    return digest_text(books) if any(book.functions or book.pools for book in books.values()) else None


def after_offhours_run(settings: Settings, report, now: datetime, message: SlackMessage | None,
                       api=None, session=None, listed=None) -> SlackMessage | None:
    """`listed`: the savings.service.ListedFunctions the reconcile filled (its list, reused); None: list again."""
    from chalice_app.kube.client import api_client
    from chalice_app.savings.service import book_run, read_cluster

    view = booking = None
    try:
        api = api or api_client(settings)
        namespaces = list(settings.function_namespaces)
        view = read_cluster(api, namespaces) if listed is None else listed.view_after(api, namespaces, report)
        booking = book_run(settings, now, view, session)
    except Exception:  # noqa: BLE001 - see the module docstring
        logger.exception("savings not booked this run (the next run books the whole slice)")
    try:
        if message is None and view is not None:
            return heads_up(settings, view, now, session)
        weekly = last_week_digest(settings, now, session) if booking and booking.night and now.weekday() == 0 else None
        return decorate(message, report, view, booking, settings, view.namespaces if view else {}, now, weekly)
    except Exception:  # noqa: BLE001
        logger.exception("could not add savings or buttons to the off-hours summary")
        return message

