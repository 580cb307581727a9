"""Every key of the stage table (partition key `id`, TTL on `expiration`), in one place.

The layout is part of a deployed stage: a key built here must stay byte-for-byte the same from release to release
(tests/core/test_table_keys.py pins one example of each builder).

- `ledger#<period>#<pool>`, `alert#<period>#<pool>#<key>`, `price#<kind>#<region>` (Cost Explorer's:
  `price#ce#<period>`), `budget#pending-notices`: budget/ledger.py — metered spend, alerts claimed once per period,
  cached prices, notices Slack refused.
- `run#<feature>`, `alerts#recent`: runlog.py. `thread#<key>`: slack/threads.py (the Slack thread of an alert key).
- `interruptions.notice#<hash>`: Powertools idempotency records (interruptions/ledger.py);
  `hit#<instance>`, `spot#<ISO week>`, `disrupted#<day>`: interruptions/records.py;
  `digest#<kind>#<period>`: digests/handler.py (a scheduled digest claimed once per period).
- `offhours#function#…`, `offhours#functions#<ns>#<shard>`, `offhours#nodepool#…`, `offhours#wake#…`,
  `offhours#note#…`: offhours/parked.py.
- `savings#cursor`, `savings#day#<day>`: savings/store.py; `offhours-heads-up#<start>`: savings/hook.py.
- `slack-replay#<sha256>`, `slack-rate#<user>#<window>`, `audit#slack#<day>`: slackapp/store.py;
  `offhours#keeps#<namespace>`: written there, read by offhours/keeps.py.
"""
from __future__ import annotations

import hashlib
import zlib
from datetime import date, datetime

# DynamoDB's per-request limits (Amazon DynamoDB Developer Guide, "Quotas": BatchGetItem 100 items, BatchWriteItem
# 25, TransactWriteItems 100), for every module that reads or writes the table in batches.
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
TRANSACTION_LIMIT = 100

# ---- budget ------------------------------------------------------------------------------------------------------


def ledger_id(period: str, pool: str) -> str:
    return f"ledger#{period}#{pool}"


def alert_id(period: str, pool: str, key: str) -> str:
    return f"alert#{period}#{pool}#{key}"


# Limit-change notices Slack refused, sent with the next run's message (budget/ledger.py).
PENDING_BUDGET_NOTICES_ID = "budget#pending-notices"


def price_id(kind: str, region: str) -> str:
    """Cached prices of `kind` ("on-demand", "storage", …) in a region; Cost Explorer results use kind "ce" and the
    period in place of the region (`price#ce#2026-11`)."""
    return f"price#{kind}#{region}"


# ---- the run log and Slack threads ---------------------------------------------------------------------------------
RECENT_ALERTS_KEY = "alerts#recent"
THREAD_ID_PREFIX = "thread#"


def run_id(feature: str) -> str:
    return f"run#{feature}"


def thread_id(key: str) -> str:
    return THREAD_ID_PREFIX + key


# ---- interruptions -------------------------------------------------------------------------------------------------
NOTICE_KEY_PREFIX = "interruptions.notice"  # Powertools idempotency keys: `<prefix>#<hash of the notice>`
HIT_PREFIX = "hit#"
SPOT_PREFIX = "spot#"
DISRUPTED_PREFIX = "disrupted#"


def hit_key(instance_id: str) -> str:
    return HIT_PREFIX + instance_id


def week_of(moment: datetime | date) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def spot_key(moment: datetime) -> str:
    return SPOT_PREFIX + week_of(moment)


def disrupted_key(day: date) -> str:
    return DISRUPTED_PREFIX + day.isoformat()


def digest_claim_key(kind: str, period: str) -> str:
    """A scheduled digest (`karpenter`, `spot`) of one period (a day, an ISO week), claimed by the tick sending it."""
    return f"digest#{kind}#{period}"


# ---- off-hours -----------------------------------------------------------------------------------------------------
FUNCTION_PREFIX = "offhours#function#"
SHARDS = 16  # function records per namespace are spread over this many items (see offhours.parked.DynamoParkedStore)


def function_id(namespace: str, name: str) -> str:
    return f"{FUNCTION_PREFIX}{namespace}#{name}"


def shard_id(namespace: str, name: str) -> str:
    return f"offhours#functions#{namespace}#{zlib.crc32(name.encode()) % SHARDS:02d}"


def shard_ids(namespace: str) -> list[str]:
    """Every shard item of a namespace's function records (to read them all without the names)."""
    return [f"offhours#functions#{namespace}#{shard:02d}" for shard in range(SHARDS)]


def nodepool_id(name: str) -> str:
    return f"offhours#nodepool#{name}"


def wake_id(namespace: str, name: str) -> str:
    return f"offhours#wake#{namespace}#{name}"


def note_id(day: str, key: str) -> str:
    return f"offhours#note#{day}#{key}"


KEEP_ATTRIBUTE_PREFIX = "keep:"  # one attribute per function name on the namespace's keeps item


def keeps_id(namespace: str) -> str:
    """The Slack keeps of a namespace's functions (offhours.keeps): one item, one `keep:<name>` attribute each."""
    return f"offhours#keeps#{namespace}"


# ---- savings -------------------------------------------------------------------------------------------------------
CURSOR_ID = "savings#cursor"


def day_id(day: str) -> str:
    return f"savings#day#{day}"


def heads_up_id(start: datetime) -> str:
    """One off-hours heads-up per downtime start."""
    return f"offhours-heads-up#{start.isoformat()}"


# ---- the Slack route -----------------------------------------------------------------------------------------------
RATE_WINDOW_SECONDS = 600


def replay_id(signature: str) -> str:
    return "slack-replay#" + hashlib.sha256(signature.encode()).hexdigest()


def rate_id(user_id: str, now: datetime) -> str:
    return f"slack-rate#{user_id}#{int(now.timestamp()) // RATE_WINDOW_SECONDS}"


def audit_id(day: str) -> str:
    return f"audit#slack#{day}"
