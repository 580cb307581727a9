"""Chalice entry point: wires Lambda events to costguard's handlers and nothing else."""
import os
from typing import cast

from chalice import Chalice, Rate, Response

from chalice_app import naming

# Each Lambda function runs one of the handlers below, so each imports its own feature on first call (not at module
# import): the interruption function never loads the budget's pricing, the budget function never loads off-hours.
# benchmarks/bench_cold_start.py measures it; tests/core/test_cold_start_imports.py pins which packages each loads.

# Read at deploy time (the Makefile sets it) and at run time (the stage's environment_variables).
STAGE = os.environ.get("COSTGUARD_STAGE", "dev")

app = Chalice(app_name=naming.APP_NAME)


@app.on_sqs_message(
    queue=naming.interruption_queue(STAGE),
    batch_size=10000,  # SQS allows 10,000 with a batching window; Lambda's 6 MB payload caps real batches
    maximum_batching_window_in_seconds=10,
    # Slack takes one message per second per webhook and pacing is per container: at most two at once
    # (the lowest SQS allows), so a burst is a couple of messages, not a 429 storm.
    maximum_concurrency=2,
    name="interruptions",
)
def on_interruption_messages(event):
    from chalice_app.interruptions import handler as interruptions

    return interruptions.handle(event.to_dict(), event.context)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="offhours")
def on_offhours_tick(event):
    from chalice_app.offhours import handler as offhours

    return offhours.handle(event.to_dict(), event.context)


@app.schedule(Rate(15, unit=Rate.MINUTES), name="budget")
def on_budget_tick(event):
    from chalice_app.budget import handler as budget

    return budget.handle(event.to_dict(), event.context)


# Slack interactivity (button clicks) and the /costguard slash command: both are form-encoded POSTs.
@app.route("/slack/actions", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def on_slack_request():
    from chalice_app.slackapp import route as slack_actions

    request = app.current_request
    assert request is not None  # Chalice sets it before calling a route
    answer = slack_actions.handle(cast(bytes, request.raw_body), request.headers)  # raw_body is bytes at run time
    return Response(body=answer.body, status_code=answer.status, headers={"Content-Type": "application/json"})
