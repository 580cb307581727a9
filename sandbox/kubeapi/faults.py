"""Injected failures: the next `times` requests matching method/path answer `status` (after `delay` seconds).

Faults apply to authenticated requests, before routing and RBAC. A fault whose status is 0 (or below 400) only
delays: the request is then served normally. `Retry-After` is sent whenever `retry_after` is not None.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    status: int = 429
    retry_after: int | None = 1        # seconds, sent as Retry-After (any status)
    times: int = 1                     # how many matching requests fail; then the fault is spent
    method: str | None = None          # e.g. "PATCH"; None matches every method
    path_contains: str | None = None   # substring of the request path; None matches every path
    delay: float = 0.0                 # seconds slept before answering
    message: str = ""                  # Status message; a default per status when empty
    remaining: int = field(init=False)

    def __post_init__(self) -> None:
        self.remaining = self.times

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method.upper() == method.upper())
                and (self.path_contains is None or self.path_contains in path))

    @property
    def reason(self) -> str:
        return {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
                504: "Timeout", 409: "Conflict", 403: "Forbidden"}.get(self.status, "Unknown")

    @property
    def text(self) -> str:
        return self.message or {429: "Too many requests, please try again later.",
                                500: "Internal error injected by the sandbox",
                                503: "The API server is unavailable (injected by the sandbox)"}.get(
                                    self.status, f"fault injected by the sandbox: {self.status}")


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching the request, its countdown decremented; spent faults are dropped."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None
