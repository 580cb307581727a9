"""The savings ledger in the stage table: the cursor and one item per UTC day, written in one transaction.

- `savings#cursor`: the last booked run's time, what was parked then, the night so far; its `booked_until` is the
  condition of every write, so two runs (or a rerun) never book the same slice twice.
- `savings#day#<YYYY-MM-DD>`: the day's book (zlib-compressed JSON, so 10,000 functions fit DynamoDB's 400 KB
  item limit), with a version each write checks.
The cursor and the day items change together (TransactWriteItems) or not at all.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import asdict
from datetime import datetime, timedelta

import boto3
from boto3.dynamodb.types import TypeSerializer

from chalice_app.conditional import transaction_held
from chalice_app.savings.ledger import Booking, Cursor, DayBook, ParkedFunctionCost, ParkedPoolCost, State, Totals
from chalice_app.table_keys import CURSOR_ID, day_id

KEEP_DAYS = timedelta(days=400)  # a year of history for `costguard savings` and the charts


def _pack(value) -> bytes:
    return zlib.compress(json.dumps(value, sort_keys=True, separators=(",", ":")).encode(), 6)


def _unpack(blob) -> dict:
    return json.loads(zlib.decompress(bytes(blob.value if hasattr(blob, "value") else blob)))


def state_to_json(state: State) -> dict:
    return {"functions": [asdict(f) for f in state.functions.values()],
            "pools": [asdict(p) for p in state.pools.values()]}


def state_from_json(data: dict) -> State:
    functions = [ParkedFunctionCost(**item) for item in data.get("functions", [])]
    pools = [ParkedPoolCost(**item) for item in data.get("pools", [])]
    return State({f.key: f for f in functions}, {p.name: p for p in pools})


def cursor_from_item(item: dict | None) -> Cursor:
    if not item:
        return Cursor()
    streak = json.loads(item.get("streak", "{}"))
    return Cursor(datetime.fromisoformat(item["booked_until"]), state_from_json(_unpack(item["state"])),
                  Totals(**streak.get("totals", {})),
                  datetime.fromisoformat(streak["since"]) if streak.get("since") else None)


def book_from_item(item: dict | None) -> DayBook:
    if not item:
        return DayBook()
    data = _unpack(item["book"])
    return DayBook(data["functions"], data["function_pools"], data["pools"])


class SavingsStore:
    def __init__(self, table_name: str, session: boto3.session.Session | None = None):
        session = session or boto3.session.Session()
        self._name = table_name
        self._table = session.resource("dynamodb").Table(table_name)
        self._client = session.client("dynamodb")  # the plain client: transactions take typed values
        self._saved: tuple[str, Cursor] | None = None  # the cursor this store (this container) wrote last

    def cursor(self) -> tuple[Cursor, str | None]:
        """The cursor and its raw `booked_until` (the condition of the next write).

        `booked_until` only moves forward, one value per booking, so when it is still the one this container
        wrote, the cursor is the one it holds: the state (10,000 parked functions: ~0.3 s to decode) is read and
        decoded only when another container booked since."""
        key = {"id": CURSOR_ID}
        head = self._table.get_item(Key=key, ConsistentRead=True, ProjectionExpression="booked_until").get("Item")
        raw = (head or {}).get("booked_until")
        if raw is not None and self._saved is not None and self._saved[0] == raw:
            return self._saved[1], raw
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return cursor_from_item(item), (item or {}).get("booked_until")

    def day(self, day: str) -> tuple[DayBook, int]:
        item = self._table.get_item(Key={"id": day_id(day)}, ConsistentRead=True).get("Item")
        return book_from_item(item), int((item or {}).get("version", 0))

    def days(self, days: list[str]) -> dict[str, DayBook]:
        return {day: self.day(day)[0] for day in days}

    def save(self, booking: Booking, previous_booked_until: str | None, now: datetime) -> bool:
        """Write the cursor and the day books at once; False when another run booked first (nothing written)."""
        cursor = booking.cursor
        assert cursor.booked_until is not None  # ledger.book always moves the cursor to its run's time
        expiration = int((now + KEEP_DAYS).timestamp())
        streak = {"totals": asdict(cursor.streak),
                  "since": cursor.streak_since.isoformat() if cursor.streak_since else None}
        cursor_put: dict = {"Put": {
            "TableName": self._name,
            "Item": {"id": CURSOR_ID, "booked_until": cursor.booked_until.isoformat(),
                     "state": _pack(state_to_json(cursor.state)), "streak": json.dumps(streak, sort_keys=True)},
            "ConditionExpression": "attribute_not_exists(id)" if previous_booked_until is None else
                                   "booked_until = :previous",
            **({"ExpressionAttributeValues": {":previous": previous_booked_until}}
               if previous_booked_until is not None else {})}}
        writes = [cursor_put]
        for day, added in sorted(booking.days.items()):
            current, version = self.day(day)
            merged = current.merged(added)
            writes.append({"Put": {
                "TableName": self._name,
                "Item": {"id": day_id(day), "version": version + 1, "expiration": expiration,
                         "book": _pack({"functions": merged.functions, "function_pools": merged.function_pools,
                                        "pools": merged.pools})},
                "ConditionExpression": "attribute_not_exists(id) OR version = :version",
                "ExpressionAttributeValues": {":version": version}}})
        if not transaction_held(self._client, lambda: self._transact(writes)):
            return False
        self._saved = (cursor_put["Put"]["Item"]["booked_until"], cursor)
        return True

    def _transact(self, writes: list[dict]) -> None:
        serializer = TypeSerializer()
        items = []
        for write in writes:
            put = dict(write["Put"])
            put["Item"] = {key: serializer.serialize(value) for key, value in put["Item"].items()}
            if "ExpressionAttributeValues" in put:
                put["ExpressionAttributeValues"] = {key: serializer.serialize(value)
                                                    for key, value in put["ExpressionAttributeValues"].items()}
            items.append({"Put": put})
        self._client.transact_write_items(TransactItems=items)
