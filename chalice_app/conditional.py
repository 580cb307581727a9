"""Conditional writes to the stage table, judged by botocore's typed exceptions instead of error-code strings.

botocore raises a modeled subclass of ClientError for each error in the service model, reachable as
`client.exceptions.<Name>` (botocore docs, "Error handling": "Parsing error responses and catching exceptions from
AWS services"); a resource's client is `resource.meta.client`.
"""
from __future__ import annotations

from typing import Any, Callable


def condition_held(client: Any, write: Callable[[], object]) -> bool:
    """Run one conditional write made through `client` (or a Table on it); False when its condition failed.
    Any other failure raises."""
    try:
        write()
        return True
    except client.exceptions.ConditionalCheckFailedException:
        return False


def transaction_held(client: Any, write: Callable[[], object]) -> bool:
    """Run one TransactWriteItems through `client`; False when DynamoDB cancelled it (a condition failed or another
    transaction touched the same item). Any other failure raises."""
    try:
        write()
        return True
    except client.exceptions.TransactionCanceledException:
        return False


def put_if_absent(table: Any, item: dict) -> bool:
    """Put `item` (a resource Table's plain values) unless an item with its id exists: True for the one caller that
    claimed it, False for everyone after."""
    return condition_held(table.meta.client,
                          lambda: table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)"))
