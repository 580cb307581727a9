"""Consistent batched reads of the stage table: BatchGetItem in pages of BATCH_GET_LIMIT keys, what DynamoDB leaves
unprocessed asked again, every item decoded to plain Python values. Its own module, free of table writes, so a
reader's Lambda role needs only `dynamodb:BatchGetItem` for it (tests/deploy/lambda_calls.py scans imports)."""
from __future__ import annotations

from typing import Sequence

from boto3.dynamodb.types import TypeDeserializer

from chalice_app.table_keys import BATCH_GET_LIMIT

_DESERIALIZER = TypeDeserializer()


def batch_get(client, table: str, ids: Sequence[str]) -> dict[str, dict]:
    """{id: item} for the ids that exist; `client` is a low-level DynamoDB client."""
    found: dict[str, dict] = {}
    for start in range(0, len(ids), BATCH_GET_LIMIT):
        keys = [{"id": {"S": key}} for key in ids[start:start + BATCH_GET_LIMIT]]
        request: dict | None = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table, []):
                item = {key: _DESERIALIZER.deserialize(value) for key, value in raw.items()}
                found[item["id"]] = item
            request = response.get("UnprocessedKeys") or None
    return found
