"""AWS-documented EventBridge event samples, kept as fixtures with the page each comes from.

The documentation's placeholders (`yyyy-mm-ddThh:mm:ssZ`, `action`) are filled in; every other field is the page's.
The AWS Health samples follow the sample payloads of the Health EventBridge schema reference: an EC2 scheduled
change whose instance is named by ARN in `affectedEntities[].entityValue`, no top-level `resources`, RFC 1123
times; its closed counterpart (`statusCode: closed`, entity `RESOLVED`); and one whose only entity is a Dedicated
Host. (HEALTH_RETIREMENT and its two variants were built field by field from the schema table; the samples after
them, HEALTH_RETIREMENT_PAGE and the rest, follow the pages' sample payloads — tests/interruptions/
test_interruption_documented.py maps each one to what costguard makes of it.)
"""
from __future__ import annotations

import copy

SPOT_NOTICES = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html"
REBALANCE = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html"
EVENTBRIDGE_EC2 = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html"
HEALTH_SCHEMA = "https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html"
HEALTH_ENTITY = "https://docs.aws.amazon.com/health/latest/APIReference/API_AffectedEntity.html"


def ec2_event(detail_type: str, event_id: str, time: str, region: str, resource: str, detail: dict) -> dict:
    """An aws.ec2 event in the EventBridge envelope, fields in the order of the pages' samples."""
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": "aws.ec2",
            "account": "123456789012", "time": time, "region": region, "resources": [resource], "detail": detail}


# SPOT_NOTICES, "EC2 Spot Instance Interruption Warning event"; instance-action is hibernate, stop or terminate.
SPOT_WARNING = ec2_event(
    "EC2 Spot Instance Interruption Warning", "12345678-1234-1234-1234-123456789012", "2026-11-24T18:00:00Z",
    "us-east-2", "arn:aws:ec2:us-east-2a:instance/i-1234567890abcdef0",
    {"instance-id": "i-1234567890abcdef0", "instance-action": "terminate"})

# REBALANCE, "EC2 Instance Rebalance Recommendation" event.
REBALANCE_RECOMMENDATION = ec2_event(
    "EC2 Instance Rebalance Recommendation", "12345678-1234-1234-1234-123456789012", "2026-11-24T18:00:00Z",
    "us-east-2", "arn:aws:ec2:us-east-2a:instance/i-1234567890abcdef0", {"instance-id": "i-1234567890abcdef0"})

# EVENTBRIDGE_EC2: the EC2 Instance State-change Notification sample (state `pending` there).
STATE_CHANGE = ec2_event(
    "EC2 Instance State-change Notification", "7bf73129-1428-4cd3-a780-95db273d1602", "2015-11-11T21:29:54Z",
    "us-east-1", "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111",
    {"instance-id": "i-abcd1111", "state": "pending"})

# HEALTH_SCHEMA: an EC2 scheduled change (instance retirement) as AWS Health sends it to EventBridge.
HEALTH_RETIREMENT = {
    "version": "0",
    "id": "7fb65329-1628-4cf3-a740-95fg457h1402",
    "detail-type": "AWS Health Event",
    "source": "aws.health",
    "account": "123456789012",
    "time": "2023-01-27T01:43:21Z",
    "region": "us-east-1",
    "detail": {
        "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED/"
                    "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED_ABC123-DEF456",
        "service": "EC2",
        "eventTypeCode": "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
        "eventTypeCategory": "scheduledChange",
        "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "1234abc01232a4012345678-1",
        "startTime": "Fri, 10 Feb 2023 10:00:00 GMT",
        "endTime": "Fri, 10 Feb 2023 12:00:00 GMT",
        "lastUpdatedTime": "Fri, 27 Jan 2023 01:43:21 GMT",
        "statusCode": "upcoming",
        "eventRegion": "us-east-1",
        "eventDescription": [{"language": "en_US", "latestDescription": "EC2 has detected degradation of the "
                              "underlying hardware hosting your Amazon EC2 instance ..."}],
        "affectedEntities": [{"entityValue": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111",
                              "lastUpdatedTime": "Fri, 27 Jan 2023 01:43:21 GMT", "statusCode": "PENDING"}],
        "affectedAccount": "123456789012",
    },
}


def health_closed() -> dict:
    """The same event once AWS closed it: event statusCode `closed`, entity RESOLVED (HEALTH_ENTITY)."""
    event = copy.deepcopy(HEALTH_RETIREMENT)
    event["id"] = "8fb65329-1628-4cf3-a740-95fg457h1403"
    event["detail"]["statusCode"] = "closed"
    event["detail"]["affectedEntities"][0]["statusCode"] = "RESOLVED"
    return event


def health_dedicated_host() -> dict:
    """A scheduled change whose only affected entity is a Dedicated Host (h-…): not an instance."""
    event = copy.deepcopy(HEALTH_RETIREMENT)
    event["id"] = "9fb65329-1628-4cf3-a740-95fg457h1404"
    event["detail"]["eventTypeCode"] = "AWS_EC2_DEDICATED_HOST_RETIREMENT_SCHEDULED"
    event["detail"]["affectedEntities"] = [{"entityValue": "h-0123456789abcdef0", "statusCode": "PENDING"}]
    return event


def spot_warning(action: str) -> dict:
    event = copy.deepcopy(SPOT_WARNING)
    event["detail"]["instance-action"] = action
    return event


def state_change(state: str, event_id: str | None = None) -> dict:
    event = copy.deepcopy(STATE_CHANGE)
    event["detail"]["state"] = state
    if event_id:
        event["id"] = event_id
    return event


# --- Samples as the pages show them today (Dec 2026), each with its page; placeholders filled, shapes kept. ---

STATE_CHANGES = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html"
INTERRUPTIBLE_CR = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-interruptible-cr.html"
CAPACITY_BLOCKS = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/capacity-blocks-monitor.html"
# The six values the STATE_CHANGES page lists for `detail.state`.
DOCUMENTED_STATES = ("pending", "running", "stopping", "stopped", "shutting-down", "terminated")

# STATE_CHANGES: the page's sample has no `version` key (every other page's envelope has "0").
STATE_CHANGE_PAGE = {
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2021-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "pending"},
}

# INTERRUPTIBLE_CR, "Instance interruption warning": 2 minutes before termination; `resources` is one string there.
INTERRUPTIBLE_CR_WARNING = {
    "version": "0",
    "id": "12345678-1234-1234-1234-123456789012",
    "detail-type": "EC2 Capacity Reservation Instance Interruption Warning",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-24T18:00:00Z",
    "resources": "arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0",
    "region": "us-east-1",
    "detail": {"instance-id": "i-1234567890abcdef0", "instance-action": "terminate",
               "instance-termination-time": "2026-11-24T18:02:00Z", "azId": "use1-az1"},
}

# CAPACITY_BLOCKS, "Capacity Reservation Instance Interruption Warning" for a Capacity Block's instance. The page
# spells the envelope key `detail_type`; EventBridge delivers `detail-type` (EVENTBRIDGE_EC2), used here.
CAPACITY_BLOCK_INTERRUPTION = {
    "version": "0",
    "id": "12345678-1234-1234-1234-123456789013",
    "detail-type": "EC2 Capacity Reservation Instance Interruption Warning",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-24T17:20:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abcdef1234567890"],
    "detail": {"instance-id": "i-0abcdef1234567890", "instance-action": "terminate",
               "instance-termination-time": "2026-11-24T17:20:00Z", "availability-zone-id": "use1-az1",
               "instance-lifecycle": "capacity-block"},
}

# CAPACITY_BLOCKS, "Capacity Block Expiration Warning" (40 minutes before the block ends; names the reservation,
# not its instances). `customer_event_id` is the page's; `id` and `detail-type` are EventBridge's (EVENTBRIDGE_EC2).
CAPACITY_BLOCK_EXPIRATION = {
    "customer_event_id": "cr-0123456789abcdef0-approaching-expiry",
    "id": "12345678-1234-1234-1234-123456789014",
    "detail-type": "Capacity Block Reservation Expiration Warning",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-24T17:20:00Z",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:capacity-reservation/cr-0123456789abcdef0"],
    "detail": {"capacity-reservation-id": "cr-0123456789abcdef0", "end-date": "2026-11-24T18:00:00Z"},
}

_DESCRIPTION = [{"language": "en_US", "latestDescription": "A description of the event will be provided here"}]

# HEALTH_SCHEMA, "Public Health Event - Amazon EC2 operational issue": no entity, no resource.
HEALTH_EC2_OPERATIONAL_ISSUE = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS Health Event",
    "source": "aws.health", "account": "123456789012", "time": "2023-01-27T09:01:22Z", "region": "af-south-1",
    "resources": [],
    "detail": {
        "eventArn": "arn:aws:health:af-south-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/"
                    "AWS_EC2_OPERATIONAL_ISSUE_7f35c8ae-af1f-54e6-a526-d0179ed6d68f",
        "service": "EC2", "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE", "eventTypeCategory": "issue",
        "eventScopeCode": "PUBLIC", "communicationId": "01b0993207d81a09dcd552ebd1e633e36cf1f09a-1",
        "startTime": "Fri, 27 Jan 2023 06:02:51 GMT", "endTime": "Fri, 27 Jan 2023 09:01:22 GMT",
        "lastUpdatedTime": "Fri, 27 Jan 2023 09:01:22 GMT", "statusCode": "open", "eventRegion": "af-south-1",
        "eventDescription": _DESCRIPTION, "affectedEntities": [], "page": "1", "totalPages": "1",
        "backupEvent": "false", "affectedAccount": "123456789012", "personas": ["OPERATIONS"]},
}

# HEALTH_SCHEMA, "Account-specific AWS Health Event - Elastic Load Balancing API Issue": no affectedEntities key.
HEALTH_ELB_API_ISSUE = {
    "version": "0", "id": "121345678-1234-1234-1234-123456789012", "detail-type": "AWS Health Event",
    "source": "aws.health", "account": "123456789012", "time": "2022-06-10T06:27:57Z", "region": "ap-southeast-2",
    "resources": [],
    "detail": {
        "eventArn": "arn:aws:health:ap-southeast-2::event/AWS_ELASTICLOADBALANCING_API_ISSUE_90353408594353980",
        "service": "ELASTICLOADBALANCING", "eventTypeCode": "AWS_ELASTICLOADBALANCING_API_ISSUE",
        "eventTypeCategory": "issue", "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "01b0993207d81a09dcd552ebd1e633e36cf1f09a-1",
        "startTime": "Fri, 10 Jun 2022 05:01:10 GMT", "endTime": "Fri, 10 Jun 2022 05:30:57 GMT",
        "statusCode": "open", "eventRegion": "ap-southeast-2", "eventDescription": _DESCRIPTION, "page": "1",
        "totalPages": "1", "backupEvent": "false", "affectedAccount": "123456789012", "personas": ["OPERATIONS"]},
}

# HEALTH_SCHEMA, "backup event for Amazon EC2 Instance Store Drive Performance Degraded": an `issue`, delivered to
# the backup region (us-west-2) about us-east-1; bare instance id in both `resources` and the entity; day "3".
HEALTH_INSTANCE_STORE_BACKUP = {
    "version": "0", "id": "121345678-1234-1234-1234-123456789012", "detail-type": "AWS Health Event",
    "source": "aws.health", "account": "123456789012", "time": "2022-06-03T06:27:57Z", "region": "us-west-2",
    "resources": ["i-abcd1111"],
    "detail": {
        "eventArn": "arn:aws:health:us-east-1::event/AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED_"
                    "90353408594353980",
        "service": "EC2", "eventTypeCode": "AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED",
        "eventTypeCategory": "issue", "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "01b0993207d81a09dcd552ebd1e633e36cf1f09a-1",
        "startTime": "Fri, 3 Jun 2022 05:01:10 GMT", "endTime": "Fri, 3 Jun 2022 05:30:57 GMT",
        "statusCode": "open", "eventRegion": "us-east-1", "eventDescription": _DESCRIPTION,
        "affectedEntities": [{"entityValue": "i-abcd1111"}], "page": "1", "totalPages": "1",
        "backupEvent": "true", "affectedAccount": "123456789012", "personas": ["OPERATIONS"]},
}

# HEALTH_SCHEMA, "Account-specific AWS Health Event - Amazon EC2 Instance Retirement": no `resources`, the
# instance by ARN, the entity's state under `status` (not the API's `statusCode`), no endTime.
HEALTH_RETIREMENT_PAGE = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS Health Event",
    "source": "aws.health", "account": "123456789012", "time": "2026-01-27T01:43:21Z", "region": "us-east-1",
    "detail": {
        "eventArn": "arn:aws:health:us-east-1::event/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_90353408594353983",
        "service": "EC2", "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "eventTypeCategory": "scheduledChange", "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "1234abc01232a4012345678-1", "startTime": "Thu, 27 Aug 2026 13:19:03 GMT",
        "lastUpdatedTime": "Thu, 27 Jan 2026 13:44:13 GMT", "statusCode": "open", "eventRegion": "us-east-1",
        "eventDescription": _DESCRIPTION,
        "eventMetadata": {"keystring1": "valuestring1", "keystring2": "valuestring2", "keystring3": "valuestring3",
                          "keystring4": "valuestring4", "truncated": "true"},
        "affectedEntities": [{"entityValue": "arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0",
                              "lastUpdatedTime": "Thu, 26 Jan 2026 19:01:55 GMT", "status": "PENDING"}],
        "affectedAccount": "123456789012", "page": "1", "totalPages": "1", "backupEvent": "false",
        "personas": ["OPERATIONS"], "actionability": "ACTION_REQUIRED"},
}

# HEALTH_SCHEMA, "Lambda Planned Lifecycle Event": a scheduledChange of another service, four resources, one of
# its entities `RESOLVED` under `status`.
HEALTH_LAMBDA_LIFECYCLE = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS Health Event",
    "source": "aws.health", "account": "123456789012", "time": "2023-01-27T01:43:21Z", "region": "us-west-2",
    "resources": ["arn:lambda-1-101002929", "arn:lambda-1-101002930", "arn:lambda-1-101002931",
                  "arn:lambda-1-101002932"],
    "detail": {
        "eventArn": "arn:aws:health:us-west-2::event/AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT_90353408594353980",
        "service": "LAMBDA", "eventTypeCode": "AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT",
        "eventTypeCategory": "scheduledChange", "eventScopeCode": "ACCOUNT_SPECIFIC",
        "communicationId": "1234abc01232a4012345678-1", "startTime": "Thu, 27 Aug 2026 13:19:03 GMT",
        "lastUpdatedTime": "Thu, 27 Jan 2026 13:44:13 GMT", "statusCode": "open", "eventRegion": "us-west-2",
        "eventDescription": _DESCRIPTION,
        "affectedEntities": [
            {"entityValue": "arn:lambda-1-101002929", "lastUpdatedTime": "Thu, 26 Jan 2026 19:01:55 GMT",
             "status": "PENDING"},
            {"entityValue": "arn:lambda-1-101002930", "lastUpdatedTime": "Thu, 26 Jan 2026 19:05:12 GMT",
             "status": "PENDING"},
            {"entityValue": "arn:lambda-1-101002931", "lastUpdatedTime": "Thu, 26 Jan 2026 19:07:13 GMT",
             "status": "PENDING"},
            {"entityValue": "arn:lambda-1-101002932", "lastUpdatedTime": "Thu, 26 Jan 2026 19:10:59 GMT",
             "status": "RESOLVED"}],
        "affectedAccount": "123456789012", "page": "1", "totalPages": "10", "backupEvent": "false",
        "personas": ["OPERATIONS"], "actionability": "ACTION_REQUIRED"},
}


def retirement_page(event_id: str, **detail) -> dict:
    """HEALTH_RETIREMENT_PAGE with its `detail` fields replaced (a variant the schema allows) and its own id."""
    event = copy.deepcopy(HEALTH_RETIREMENT_PAGE)
    event["id"] = event_id
    event["detail"].update(detail)
    return event
