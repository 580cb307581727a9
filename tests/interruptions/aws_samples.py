"""AWS-documented EventBridge event samples, kept as fixtures with the page each comes from.

The documentation's placeholders (`yyyy-mm-ddThh:mm:ssZ`, `action`) are filled in; every other field is the page's.
The AWS Health samples follow the sample payloads of the Health EventBridge schema reference: an EC2 scheduled
change whose instance is named by ARN in `affectedEntities[].entityValue`, no top-level `resources`, RFC 1123
times; its closed counterpart (`statusCode: closed`, entity `RESOLVED`); and one whose only entity is a Dedicated
Host. (The search tool returned the schema table, not the full sample text; the Health payloads below are built
field by field from that schema — see tests/interruptions/test_interruption_formats.py for what each one pins.)
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
