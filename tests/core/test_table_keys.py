"""The stage table's keys are part of a deployed stage: each builder's output stays byte-for-byte the same."""
import inspect
from datetime import date, datetime, timezone

from chalice_app import table_keys

AT = datetime(2026, 11, 24, 19, 5, tzinfo=timezone.utc)
EXAMPLES = {
    "ledger_id": (("2026-11", "default"), "ledger#2026-11#default"),
    "alert_id": (("2026-11", "default", "cpu"), "alert#2026-11#default#cpu"),
    "price_id": (("ce", "2026-11"), "price#ce#2026-11"),
    "run_id": (("budget",), "run#budget"),
    "thread_id": (("budget:2026-11",), "thread#budget:2026-11"),
    "hit_key": (("i-0abc",), "hit#i-0abc"),
    "week_of": ((date(2026, 12, 31),), "2026-W53"),
    "spot_key": ((AT,), "spot#2026-W48"),
    "disrupted_key": ((date(2026, 11, 24),), "disrupted#2026-11-24"),
    "digest_claim_key": (("spot", "2026-W48"), "digest#spot#2026-W48"),
    "function_id": (("openfaas-fn", "figlet"), "offhours#function#openfaas-fn#figlet"),
    "shard_id": (("openfaas-fn", "figlet"), "offhours#functions#openfaas-fn#01"),
    "shard_ids": (("fn",), [f"offhours#functions#fn#{shard:02d}" for shard in range(16)]),
    "nodepool_id": (("spot",), "offhours#nodepool#spot"),
    "wake_id": (("openfaas-fn", "figlet"), "offhours#wake#openfaas-fn#figlet"),
    "note_id": (("2026-11-24", "pdb"), "offhours#note#2026-11-24#pdb"),
    "keeps_id": (("openfaas-fn",), "offhours#keeps#openfaas-fn"),
    "day_id": (("2026-11-24",), "savings#day#2026-11-24"),
    "heads_up_id": ((AT,), "offhours-heads-up#2026-11-24T19:05:00+00:00"),
    "replay_id": (("v0=abc",), "slack-replay#" + "5f0ff54ca50be8669e988b890dbdec4cfe032456e220268c35fe315423a18f9b"),
    "rate_id": (("U1", AT), "slack-rate#U1#2992578"),
    "audit_id": (("2026-11-24",), "audit#slack#2026-11-24"),
}
CONSTANTS = {"RECENT_ALERTS_KEY": "alerts#recent", "THREAD_ID_PREFIX": "thread#",
             "NOTICE_KEY_PREFIX": "interruptions.notice", "HIT_PREFIX": "hit#", "SPOT_PREFIX": "spot#",
             "DISRUPTED_PREFIX": "disrupted#", "FUNCTION_PREFIX": "offhours#function#", "CURSOR_ID": "savings#cursor",
             "SHARDS": 16, "RATE_WINDOW_SECONDS": 600, "KEEP_ATTRIBUTE_PREFIX": "keep:"}


def test_every_key_builder_is_pinned():
    builders = {name for name, value in vars(table_keys).items()
                if inspect.isfunction(value) and value.__module__ == table_keys.__name__}
    assert builders == set(EXAMPLES)
    for name, (arguments, expected) in EXAMPLES.items():
        assert getattr(table_keys, name)(*arguments) == expected, name


def test_every_key_constant_is_pinned():
    for name, expected in CONSTANTS.items():
        assert getattr(table_keys, name) == expected, name
