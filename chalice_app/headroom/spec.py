"""A NodePool's headroom request: `<time spec>: <cpu> vCPU[, <memory>]`, e.g. `Mon-Fri 07:00-19:00 Europe/London:
4 vCPU, 8Gi`. The time spec is off-hours' (chalice_app/offhours/schedule.py); outside it the headroom is zero.
The amount is split at its last `": "` (a time spec's own colons are never followed by a space)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kubernetes.utils import parse_quantity

from chalice_app.errors import CostguardError
from chalice_app.offhours.schedule import Schedule, ScheduleError, parse_schedule

MAX_CPU_MILLIS = 256_000  # bounds on untrusted numbers: no pool keeps more than 256 vCPU warm
MAX_MEMORY_BYTES = 2 * 1024 ** 4
_CPU = re.compile(r"^(?P<amount>\d+(?:\.\d+)?m?)\s*(?:vcpus?|cpus?)?$", re.IGNORECASE)


class HeadroomError(CostguardError):
    """A headroom request that cannot be understood; the message names where it was set and what was wrong."""


@dataclass(frozen=True)
class HeadroomSpec:
    text: str
    schedule: Schedule
    cpu_millis: int
    memory_bytes: int  # 0: the placeholders request no memory

    def amount(self) -> str:
        return f"{self.cpu_millis / 1000:g} vCPU" + (f", {self.memory_bytes / 1024 ** 3:g}Gi" if self.memory_bytes
                                                    else "")


def _cpu(text: str, source: str) -> int:
    match = _CPU.match(text.strip())
    if not match:
        raise HeadroomError(f"{source}: cpu {text.strip()!r} is not like '4 vCPU' or '500m'")
    millis = int(parse_quantity(match["amount"]) * 1000)
    if not 0 < millis <= MAX_CPU_MILLIS:
        raise HeadroomError(f"{source}: cpu {text.strip()!r} must be above 0 and at most {MAX_CPU_MILLIS // 1000}")
    return millis


def _memory(text: str, source: str) -> int:
    try:
        amount = parse_quantity(text.strip())
    except ValueError:
        raise HeadroomError(f"{source}: memory {text.strip()!r} is not a quantity like '8Gi'") from None
    if not 0 <= amount <= MAX_MEMORY_BYTES or amount != amount.to_integral_value():
        raise HeadroomError(f"{source}: memory {text.strip()!r} must be whole bytes, at most 2Ti")
    return int(amount)


def parse_headroom(text: str, source: str, holidays: str | None = None,
                   default_timezone: str | None = None) -> HeadroomSpec:
    """Parse a request; HeadroomError naming `source` (e.g. "NodePool spot annotation ...") when it is bad."""
    if not isinstance(text, str) or ": " not in text:
        raise HeadroomError(f"{source}: expected '<time spec>: <cpu> vCPU, <memory>' like "
                            f"'Mon-Fri 07:00-19:00 Europe/London: 4 vCPU, 8Gi', got {text!r}")
    when, _, amount = text.strip().rpartition(": ")
    pieces = [piece for piece in amount.split(",")]
    if len(pieces) > 2:
        raise HeadroomError(f"{source}: amount {amount!r} has more than cpu and memory")
    try:
        schedule = parse_schedule(when, holidays, default_timezone)
    except ScheduleError as error:
        raise HeadroomError(f"{source}: {error}") from None
    memory = _memory(pieces[1], source) if len(pieces) == 2 else 0
    return HeadroomSpec(text.strip(), schedule, _cpu(pieces[0], source), memory)


