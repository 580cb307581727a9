"""What `chalice deploy` cannot make: the stage's queue, DLQ, EventBridge rules, table and SSM parameters.

`ensure_stage` reads every resource first and decides what to do with pure functions; only when the whole plan is
known (and no existing resource conflicts with it) does it write, so a conflict never leaves a half-made stage.
Running it again changes nothing. `teardown_stage` removes the same resources; data (the table, the budget
document) only when asked.
"""
from chalice_app.provisioning.desired import (  # noqa: F401 - the package's public names
    BATCHING_WINDOW_SECONDS, DEFAULT_BUDGET_DOCUMENT, DLQ_RETENTION_SECONDS, LAMBDA_TIMEOUT_SECONDS,
    MAX_RECEIVE_COUNT, Place, ProvisionReport, QUEUE_RETENTION_SECONDS, ResourceOutcome, SSM_STANDARD_LIMIT,
    STAGE_PATTERN, Step, TARGET_ID, VISIBILITY_TIMEOUT_SECONDS, WEBHOOK_PATTERN, attributes_to_change, decide,
    dlq_attributes, queue_attributes, queue_policy, rule_names, validate_budget_template, validate_request,
)
from chalice_app.provisioning.stage import (  # noqa: F401
    apply_steps, aws_errors, check_cluster, ensure_stage, locate, plan_budget_parameter, plan_queue, plan_rule,
    plan_table, plan_webhook_parameter, teardown_stage,
)
