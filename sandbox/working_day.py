"""A working day in the time-stepped simulator: bursts on a function (the guide's demo scales `sleep` 1 -> 5), the
app's own runs at their times (e.g. headroom or off-hours reconciles), Karpenter's consolidation after every step;
what comes out: each new pod's time to Ready and the node-seconds to price.

    day = WorkingDay(start=monday_0600, end=monday_2000, bursts=morning_and_afternoon_bursts,
                     actions=[Action(every=timedelta(minutes=5), run=reconcile_headroom)])
    result = day.run(sb.sim)
    result.percentile(95), result.cost(lambda instance_type, capacity_type, zone: usd_per_hour)

A burst does what the OpenFaaS autoscaler does under load: the function's Deployment goes to `replicas` at `start`
and back to `baseline` at `end` (the Standard autoscaler's scale-down after its cool-off is not modelled here; see
sandbox/openfaas.py for the autoscaler twin). The Deployment controller makes the pods; a pod's Ready time is its
Ready condition's lastTransitionTime (sandbox/cluster_timing.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sandbox.cluster_timing import PodReady, StartTimes, Timeline
from sandbox.objects import FUNCTION_NAMESPACE

Price = Callable[[str, str, str], float]  # (instance type, capacity type, zone) -> USD per hour


@dataclass(frozen=True)
class Burst:
    start: datetime
    end: datetime
    function: str = "sleep"
    replicas: int = 5
    baseline: int = 1

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"burst on {self.function}: end {self.end} is not after start {self.start}")
        if self.replicas < 0 or self.baseline < 0:
            raise ValueError(f"burst on {self.function}: replicas and baseline must be 0 or more")


@dataclass(frozen=True)
class Action:
    """Something run at `first` and then every `every` (None: once), e.g. the app's scheduled Lambda against the
    sandbox; it gets the simulated time."""
    run: Callable[[datetime], object]
    first: datetime | None = None  # None: the day's start
    every: timedelta | None = None


@dataclass
class DayResult:
    new_pods: list[PodReady]  # the bursting functions' pods made during the day that turned Ready
    never_ready: list[str]  # their pods deleted before turning Ready
    usage: dict[tuple[str, str, str], float]  # node-seconds per (instance type, capacity type, zone)

    def seconds_to_ready(self) -> list[float]:
        return sorted(pod.seconds for pod in self.new_pods)

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile of the seconds to Ready (None when no pod was made)."""
        values = self.seconds_to_ready()
        if not values:
            return None
        return values[max(0, math.ceil(q / 100 * len(values)) - 1)]

    def node_hours(self) -> float:
        return sum(self.usage.values()) / 3600

    def cost(self, price: Price) -> float:
        return sum(seconds / 3600 * price(*key) for key, seconds in self.usage.items())


@dataclass
class WorkingDay:
    start: datetime
    end: datetime
    bursts: list[Burst] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    step: timedelta = timedelta(seconds=30)
    times: StartTimes = field(default_factory=StartTimes)
    consolidate: bool = True

    def run(self, sim) -> DayResult:
        """Run the day on `sim` (a ClusterSim, made time-stepped here) from `start` to `end`."""
        timeline = sim.timeline if sim.timeline is not None else Timeline(sim, self.times)
        events = self._events(sim)
        watched = {burst.function for burst in self.bursts}
        made: dict[tuple[str, str], datetime] = {}
        ready_before = len(timeline.ready)

        def after_step(now: datetime) -> None:
            if self.consolidate:
                sim.consolidate(now)
            for pod in sim.store.list("v1", "Pod", FUNCTION_NAMESPACE):
                if (pod["metadata"].get("labels") or {}).get("faas_function") in watched:
                    made.setdefault((pod["metadata"]["namespace"], pod["metadata"]["name"]), now)

        timeline.settle(self.start)
        after_step(self.start)
        initial = set(made)
        for when, act in events:
            timeline.run_until(when, self.step, after_step)
            act(when)  # the next run_until settles at `when` first
        timeline.run_until(self.end, self.step, after_step)
        new = [pod for pod in timeline.ready[ready_before:]
               if pod.labels.get("faas_function") in watched and (pod.namespace, pod.name) not in initial]
        ready_keys = {(pod.namespace, pod.name) for pod in new}
        never = sorted(key[1] for key in made if key not in initial and key not in ready_keys
                       and sim.store.get("v1", "Pod", *key) is None)
        return DayResult(new, never, dict(timeline.usage))

    def _events(self, sim) -> list[tuple[datetime, Callable[[datetime], object]]]:
        events: list[tuple[datetime, int, Callable[[datetime], object]]] = []
        for burst in self.bursts:
            events.append((burst.start, len(events), _scale(sim, burst.function, burst.replicas)))
            events.append((burst.end, len(events), _scale(sim, burst.function, burst.baseline)))
        for action in self.actions:
            when = action.first or self.start
            while when <= self.end:
                events.append((when, len(events), action.run))
                if action.every is None:
                    break
                when += action.every
        return [(when, act) for when, _, act in sorted(events, key=lambda e: (e[0], e[1]))
                if self.start <= when <= self.end]


def _scale(sim, function: str, replicas: int) -> Callable[[datetime], None]:
    return lambda now: sim.scale_function(function, replicas)
