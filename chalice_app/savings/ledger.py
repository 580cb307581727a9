"""The savings ledger (pure booking): what parking avoided between two off-hours runs, per function and NodePool.

Each run observes what is parked now (State) and books the slice since the previous run with what was parked then
(the state only changes at runs, as far as costguard can know): replica-hours at zero × the replica's $/hour, and
per parked NodePool the node-hours and $/hour that consolidation removed since parking. Slices are cut at UTC
midnights into day books. The cursor (the previous run's time and state) moves only forward: a rerun at or before
it books nothing, and a missed run is covered by the next one's longer slice.
Night wake-ups count against the savings: a parked function that runs replicas again (OpenFaaS Standard scales
from zero on a request) avoids only original − current replicas, and the woken replica-hours are booked apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from chalice_app.budget.metering import day_slices


@dataclass(frozen=True)
class ParkedFunctionCost:
    namespace: str
    name: str
    pool: str | None
    original: int  # the replicas costguard will restore
    replicas: int  # running now
    floor: int  # replicas when parking was first seen: anything above it (up to the original) was woken
    replica_hourly: float  # USD per replica-hour on its NodePool (0 when it runs on no NodePool)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def avoided(self) -> int:
        """Replicas not running because the function is parked (net of wake-ups)."""
        return max(0, self.original - self.replicas)

    @property
    def woken(self) -> int:
        """Replicas running again although parked (night wake-ups)."""
        return max(0, min(self.replicas, self.original) - self.floor)


@dataclass(frozen=True)
class ParkedPoolCost:
    name: str
    baseline_nodes: int  # nodes running when parking was first seen
    baseline_hourly: float
    nodes: int  # nodes running now
    hourly: float

    @property
    def removed_nodes(self) -> int:
        return max(0, self.baseline_nodes - self.nodes)

    @property
    def removed_hourly(self) -> float:
        return max(0.0, self.baseline_hourly - self.hourly)


@dataclass(frozen=True)
class State:
    functions: dict[str, ParkedFunctionCost] = field(default_factory=dict)
    pools: dict[str, ParkedPoolCost] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.functions and not self.pools


@dataclass
class Totals:
    replica_hours: float = 0.0
    woken_replica_hours: float = 0.0
    saved: float = 0.0  # USD, net of wake-ups
    woken: float = 0.0  # USD the wake-ups cost
    node_hours: float = 0.0
    node_saved: float = 0.0  # USD of nodes consolidation removed

    def add(self, other: "Totals") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass
class DayBook:
    """One UTC day: function key → [replica-hours, woken replica-hours, USD saved, USD woken]; its pool; NodePool →
    [node-hours removed, USD saved]."""
    functions: dict[str, list[float]] = field(default_factory=dict)
    function_pools: dict[str, str | None] = field(default_factory=dict)
    pools: dict[str, list[float]] = field(default_factory=dict)

    def merged(self, other: "DayBook") -> "DayBook":
        functions = {key: list(values) for key, values in self.functions.items()}
        for key, values in other.functions.items():
            functions[key] = [a + b for a, b in zip(functions.get(key, [0.0] * 4), values)]
        pools = {key: list(values) for key, values in self.pools.items()}
        for key, values in other.pools.items():
            pools[key] = [a + b for a, b in zip(pools.get(key, [0.0] * 2), values)]
        return DayBook(functions, {**self.function_pools, **other.function_pools}, pools)

    def totals(self) -> Totals:
        totals = Totals()
        for replica_hours, woken_hours, saved, woken in self.functions.values():
            totals.add(Totals(replica_hours, woken_hours, saved, woken))
        for node_hours, saved in self.pools.values():
            totals.add(Totals(node_hours=node_hours, node_saved=saved))
        return totals


@dataclass(frozen=True)
class Cursor:
    booked_until: datetime | None = None
    state: State = field(default_factory=State)
    streak: Totals = field(default_factory=Totals)  # booked since parking began (the night so far)
    streak_since: datetime | None = None


@dataclass(frozen=True)
class Booking:
    days: dict[str, DayBook]  # UTC day → what this run adds to it
    cursor: Cursor  # the cursor after this run
    night: Totals | None = None  # what the night saved, when this run ended it (nothing parked any more)
    night_since: datetime | None = None


def slice_book(state: State, start: datetime, end: datetime) -> dict[str, DayBook]:
    """What `state`, held over [start, end), avoided, per UTC day."""
    days: dict[str, DayBook] = {}
    for day, hours in day_slices(start, end):
        book = days.setdefault(day, DayBook())
        for key, function in state.functions.items():
            book.functions[key] = [function.avoided * hours, function.woken * hours,
                                   function.avoided * hours * function.replica_hourly,
                                   function.woken * hours * function.replica_hourly]
            book.function_pools[key] = function.pool
        for name, pool in state.pools.items():
            book.pools[name] = [pool.removed_nodes * hours, pool.removed_hourly * hours]
    return days


def with_baselines(observed: State, previous: State) -> State:
    """A parked pool keeps the baseline of when parking was first seen (its nodes before consolidation); a parked
    function keeps the replicas it was parked at, so later replicas are counted as woken."""
    functions = {key: replace(function, floor=min(previous.functions[key].floor, function.original))
                 if key in previous.functions else function for key, function in observed.functions.items()}
    pools = {name: replace(pool, baseline_nodes=previous.pools[name].baseline_nodes,
                           baseline_hourly=previous.pools[name].baseline_hourly)
             if name in previous.pools else pool for name, pool in observed.pools.items()}
    return State(functions, pools)


def book(cursor: Cursor, observed: State, now: datetime) -> Booking | None:
    """This run's booking; None when `now` is not after the cursor (a rerun or a late duplicate: nothing to do)."""
    if cursor.booked_until is not None and now <= cursor.booked_until:
        return None
    state = with_baselines(observed, cursor.state)
    days = slice_book(cursor.state, cursor.booked_until, now) if cursor.booked_until else {}
    streak = Totals()
    streak.add(cursor.streak)
    for day in days.values():
        streak.add(day.totals())
    since = cursor.streak_since or (cursor.booked_until if not cursor.state.empty else None)
    if state.empty:
        night = streak if streak.any else None
        return Booking(days, Cursor(now, state), night, since if night else None)
    return Booking(days, Cursor(now, state, streak, since or now))
