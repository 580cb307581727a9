"""In-memory stand-ins for the budget's adapters where the sandbox is not needed (the cluster: tests/memory_cluster.py)."""
from __future__ import annotations


