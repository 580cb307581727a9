from datetime import datetime, timezone

from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import DIVIDER, format_date_token, mrkdwn_to_text, to_text

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)
EPOCH = int(datetime(2026, 11, 24, 19, 5, 30, tzinfo=timezone.utc).timestamp())


def test_blocks_render_as_lines_in_order():
    message = SlackMessage("fallback", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "Spot interruption"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Node* ip-10-0-1-4 &amp; friends"},
         "fields": [{"type": "mrkdwn", "text": "*Pool*\nspot"}, {"type": "plain_text", "text": "2 pods"}]},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "costguard"},
                                         {"type": "plain_text", "text": "sandbox"}]},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}}]},
    ])
    assert to_text(message, now=NOW).splitlines() == [
        "Spot interruption", "=" * len("Spot interruption"),
        "*Node* ip-10-0-1-4 & friends", "  *Pool*  spot", "  2 pods",
        DIVIDER,
        "costguard · sandbox",
        "[Open]",
    ]


def test_message_without_blocks_shows_its_text():
    assert to_text(SlackMessage("see <https://example.com/x|the runbook>"), now=NOW) == \
        "see the runbook (https://example.com/x)"


def test_date_tokens_become_times_in_utc():
    text = f"goes at <!date^{EPOCH}^{{date_short}} {{time}}|fallback> ({{x}})"
    assert mrkdwn_to_text(text, now=NOW) == "goes at Nov 24, 2026 7:05 PM ({x})"


def test_date_token_formats():
    assert format_date_token(EPOCH, "{date_num} {time_secs}", NOW) == "2026-11-24 7:05:30 PM"
    assert format_date_token(EPOCH, "{date_long}", NOW) == "Tuesday, November 24th, 2026"
    assert format_date_token(EPOCH, "{date_pretty} {ago}", NOW) == "today in 1 hour"
    assert format_date_token(EPOCH - 86400 * 3, "{date_short_pretty}, {ago}", NOW) == "Nov 21, 2026, 2 days ago"


def test_malformed_date_token_falls_back_to_its_label():
    assert mrkdwn_to_text("<!date^notanumber^{time}|soon>", now=NOW) == "soon"


def test_mentions():
    assert mrkdwn_to_text("<!here> <@U123> <#C42|ops> <!subteam^S1|@oncall>", now=NOW) == "@here @U123 #ops @oncall"
