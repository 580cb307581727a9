"""Demo, Slack actions and savings: the heads-up before 19:00 carries "Keep sleep up until 22:00"; a signed click
(as Slack sends it, to the app's HTTP route on loopback) keeps `sleep` up, a forged and an unauthorised request
change nothing, a redeploy at 20:00 does not end the keep (it is in the stage table too), the 22:05 run parks
`sleep`, and the morning summary says what the night saved.

    prepare(sb)                # before the evening: prices for the savings ledger (moto has no Pricing API)
    demo_offhours.evening(...) # 18:55 heads-up with buttons, 19:05 parking
    run(sb, console)           # the click, the forged requests, the 19:10 run, a redeploy, 20:05 and 22:05
    demo_offhours.morning(...) # 07:05: restored; the summary says what the night saved
    savings(sb, console)       # `costguard savings --period week`
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from rich.console import Console

from chalice_app.config import load_settings
from chalice_app.offhours import handler
from chalice_app.offhours.ports import OffhoursPorts
from chalice_app.slack.message import SlackMessage
from chalice_app.slack.render import to_text
from sandbox.demo_budget import seed_prices
from sandbox.demo_offhours import LONDON, demo_evening
from sandbox.objects import FUNCTION_NAMESPACE
from sandbox.slack_user import SlackPerson, serve_slack_actions

ALEX = SlackPerson()
MALLORY = SlackPerson(user_id="U0MALLORY1", user_name="mallory")


class _SimClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def _evening() -> datetime:
    return demo_evening(datetime.now(timezone.utc))


def prepare(sb) -> None:
    """Prices cached for the demo's evening and night, where the budget feature caches them."""
    seed_prices(sb, _evening().astimezone(timezone.utc) - timedelta(hours=1))


def _show(console: Console, message) -> None:
    console.print(to_text(SlackMessage(message.text, message.payload.get("blocks", []))), markup=False)


def _replicas(sb, name: str) -> int:
    return sb.kube.store.get("apps/v1", "Deployment", FUNCTION_NAMESPACE, name)["spec"]["replicas"]


def _tick(sb, console: Console, clock: _SimClock, at: datetime) -> None:
    clock.now = at.astimezone(timezone.utc)
    summary = handler.run(load_settings(), clock.now, OffhoursPorts.from_settings(load_settings()))
    sb.sim.settle()
    console.print(f"[bold]{at:%H:%M}[/bold] off-hours run: {summary['scaled_down']} scaled down, "
                  f"{summary['restored']} restored; `sleep` at {_replicas(sb, 'sleep')} replica(s)")


def run(sb, console: Console) -> dict:
    evening = _evening()
    day = evening.date()
    clock = _SimClock(datetime.combine(day, time(19, 7), tzinfo=LONDON))
    heads_up = next((m for m in reversed(sb.slack.messages) if "park at" in m.text), None)
    if heads_up is None:
        raise RuntimeError("no heads-up message: run demo_offhours.evening first")
    results = {}
    with serve_slack_actions(sb, allowed=[ALEX.user_id], clock=clock) as slack:
        console.print(f"Slack app route (chalice.local): {slack.route_url}; allow-list: {ALEX.user_id}")
        body = slack.click_body(heads_up, "Keep sleep up until 22:00", MALLORY)
        status, answer = slack.post(body, slack.signed_headers(body, secret="a-forged-secret-0000000000000"))
        console.print(f"forged signature → HTTP {status} ({answer['text']})")
        status, answer = slack.click(heads_up, "Keep sleep up until 22:00", MALLORY)
        console.print(f"@mallory (not on the allow-list) clicks → HTTP {status}: {answer['text']}")
        body = slack.click_body(heads_up, "Keep sleep up until 22:00", ALEX)
        headers = slack.signed_headers(body)
        status, answer = slack.post(body, headers)
        results["click"] = status
        console.print(f"@alex clicks [Keep sleep up until 22:00] at 19:07 → HTTP {status}")
        replayed, _ = slack.post(body, headers)
        console.print(f"the same request replayed → HTTP {replayed}")
        console.print("[dim]Slack thread reply (via response_url):[/dim]")
        _show(console, sb.slack.messages_for("response_url")[-1])
        status, answer = slack.slash("status", ALEX)
        console.print(f"/costguard status → HTTP {status}")
        console.print(answer["text"], markup=False)
    _tick(sb, console, clock, datetime.combine(day, time(19, 10), tzinfo=LONDON))
    results["sleep_up_at_19_10"] = _replicas(sb, "sleep") > 0
    # A pipeline redeploys sleep at 20:00 (`faas-cli deploy`: faas-netes replaces the Deployment's annotations, the
    # keep's among them); the keep is in the stage table too, so the 20:05 run leaves sleep up.
    sb.openfaas.redeploy("sleep")
    sb.sim.settle()
    console.print("[bold]20:00[/bold] `faas-cli deploy` of sleep: its annotations replaced, the keep's annotation gone")
    _tick(sb, console, clock, datetime.combine(day, time(20, 5), tzinfo=LONDON))
    results["sleep_up_after_redeploy"] = _replicas(sb, "sleep") > 0
    _tick(sb, console, clock, datetime.combine(day, time(22, 5), tzinfo=LONDON))
    sb.sim.consolidate()
    results["sleep_parked_at_22_05"] = _replicas(sb, "sleep") == 0
    return results


def savings(sb, console: Console) -> None:
    """`costguard savings --period week` for the demo's week."""
    from typer.testing import CliRunner

    from chalice_app.cli import app as cli_app

    at = _evening().astimezone(timezone.utc).isoformat()
    result = CliRunner().invoke(cli_app, ["savings", "--period", "week", "--at", at, "--by", "nodepool"])
    console.print(result.output, markup=False)
