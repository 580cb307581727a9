"""The shape of off-hours' function record shards (pure): item `offhours#functions#<namespace>#<nn>` holds
`entries`, a JSON map {function name: [replicas, uid, parked_at]}, and a `version` (offhours.parked writes them).
Here so that readers (the Slack route's `/costguard status`) need not import the writer and its table writes."""
from __future__ import annotations

import json


def shard_counts(item: dict | None) -> dict[str, int]:
    """{function name: the count its restore puts back} from one shard item as read (pure); entries that are not
    this module's shape are left out."""
    try:
        entries = json.loads((item or {}).get("entries") or "{}")
    except (TypeError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {name: entry[0] for name, entry in entries.items()
            if isinstance(entry, list) and entry and isinstance(entry[0], int) and not isinstance(entry[0], bool)}
