"""In-memory stand-ins for the budget's adapters where the sandbox is not needed (the cluster: tests/memory_cluster.py)."""
from __future__ import annotations


class CapturingNotifier:
    def __init__(self, fail=False):
        self.messages = []
        self.fail = fail

    def send(self, message):
        if self.fail:
            raise RuntimeError("Slack is down")
        self.messages.append(message)
