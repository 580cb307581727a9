"""The interruption handler pauses the cyclic garbage collector for a batch and always turns it back on (speed:
benchmarks/bench_interruptions.py; here only that the collector's state is restored, whatever the batch does)."""
import gc

import pytest

from chalice_app.config import load_settings
from chalice_app.interruptions import handler
from chalice_app.interruptions.batch import BatchResult, Decoded

SETTINGS = load_settings({"COSTGUARD_CLUSTER_NAME": "test", "COSTGUARD_TABLE_NAME": "costguard-test"})


def test_the_collector_is_off_during_the_batch_and_on_again_after(monkeypatch):
    seen = []

    def batch(records, region, ports):
        seen.append(gc.isenabled())
        return BatchResult(succeeded=[], failed=[], decoded=Decoded())

    monkeypatch.setattr(handler, "process_batch", batch)
    assert gc.isenabled()
    assert handler.run({"Records": []}, None, SETTINGS, ports=None) == {"messages": 0, "alerts_sent": 0}
    assert seen == [False] and gc.isenabled()


def test_the_collector_is_on_again_when_the_batch_raises(monkeypatch):
    def batch(records, region, ports):
        raise RuntimeError("the idempotency table is down")

    monkeypatch.setattr(handler, "process_batch", batch)
    with pytest.raises(RuntimeError, match="table is down"):
        handler.run({"Records": []}, None, SETTINGS, ports=None)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(monkeypatch):
    monkeypatch.setattr(handler, "process_batch", lambda records, region, ports: BatchResult([], [], Decoded()))
    gc.disable()
    try:
        handler.run({"Records": []}, None, SETTINGS, ports=None)
        assert not gc.isenabled()
    finally:
        gc.enable()
