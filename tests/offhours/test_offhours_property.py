"""Property: over random schedules, clocks, missed ticks, human scale changes and OpenFaaS Standard scale-from-zero
wake-ups, after an uptime tick every function no human touched has exactly its original replicas (a wake-up to 1
replica during downtime does not count as a human touch), and a downtime tick leaves it at its downtime count."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from chalice_app.offhours.model import function_from_object
from chalice_app.kube.names import ORIGINAL_REPLICAS
from chalice_app.offhours.policy import Defaults, layers_for, resolve_policy
from chalice_app.offhours.reconcile import OffhoursConfig, Reconciler
from chalice_app.offhours.schedule import DAYS
from tests.offhours.factories import deployment
from tests.memory_cluster import MemoryCluster

ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
NAMESPACE = "openfaas-fn"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@st.composite
def windows(draw):
    first, last = draw(st.sampled_from(DAYS)), draw(st.sampled_from(DAYS))
    start = draw(st.integers(0, 23 * 60 + 59))
    end = draw(st.integers(0, 23 * 60 + 59).filter(lambda minute: minute != start))
    return f"{first}-{last} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d} {draw(st.sampled_from(ZONES))}"


@st.composite
def specs(draw):
    return ", ".join(draw(st.lists(windows(), min_size=1, max_size=3)))


@st.composite
def scenarios(draw):
    count = draw(st.integers(1, 6))
    functions = []
    for index in range(count):
        annotations = {}
        if draw(st.booleans()):
            annotations["costguard.openfaas.com/" + draw(st.sampled_from(("uptime", "downtime")))] = draw(specs())
        if draw(st.booleans()):
            annotations["costguard.openfaas.com/downtime-replicas"] = str(draw(st.integers(0, 2)))
        if draw(st.booleans()):
            annotations["costguard.openfaas.com/holidays"] = draw(st.sampled_from(("GB-ENG", "US")))
        functions.append(deployment(f"fn-{index}", draw(st.integers(0, 5)), annotations=annotations,
                                    created=START - timedelta(days=1)))
    default_uptime = draw(specs())
    first_tick = START + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60)))
    gaps = draw(st.lists(st.integers(5, 3 * 24 * 60), min_size=1, max_size=8))  # missed ticks: gaps beyond 5 min
    humans = draw(st.lists(st.tuples(st.integers(0, len(gaps)), st.integers(0, count - 1), st.integers(0, 6)),
                           max_size=4))
    wakes = draw(st.lists(st.tuples(st.integers(0, len(gaps)), st.integers(0, count - 1)), max_size=4))
    return functions, default_uptime, first_tick, gaps, humans, wakes


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_untouched_functions_get_exactly_their_replicas_back(scenario):
    functions, default_uptime, first_tick, gaps, humans, wakes = scenario
    original = {d["metadata"]["name"]: d["spec"]["replicas"] for d in functions}
    cluster = MemoryCluster(functions)
    defaults = Defaults(uptime=default_uptime, timezone="UTC")
    reconciler = Reconciler(cluster, OffhoursConfig((NAMESPACE,), defaults, max_changes=10_000), sleep=lambda _: None)
    touched: set[str] = set()
    woken: set[str] = set()
    moment = first_tick
    ticks = [first_tick] + [first_tick + timedelta(minutes=sum(gaps[: i + 1])) for i in range(len(gaps))]
    for index, moment in enumerate(ticks):
        for when, which, replicas in humans:
            if when == index:
                cluster.human_scale(NAMESPACE, f"fn-{which}", replicas)
                touched.add(f"fn-{which}")
        for when, which in wakes:
            parked = cluster.deployments[(NAMESPACE, f"fn-{which}")]
            if when == index and ORIGINAL_REPLICAS in parked["metadata"].get("annotations", {}):
                cluster.human_scale(NAMESPACE, f"fn-{which}", 1)  # a request woke the parked function
                woken.add(f"fn-{which}")
        report = reconciler.run(moment)
        assert not report.errors

    for (namespace, name), obj in cluster.deployments.items():
        fn = function_from_object(obj)
        policy = resolve_policy(layers_for("function", fn.annotations, namespace, {}), defaults)
        if not policy.in_downtime(moment):
            assert ORIGINAL_REPLICAS not in fn.annotations  # nothing left to restore after an uptime tick
            if name not in touched:
                assert fn.replicas == original[name]
        elif name not in touched:
            if name not in woken:
                assert fn.replicas == min(original[name], policy.downtime_replicas)
            assert (ORIGINAL_REPLICAS in fn.annotations) == (original[name] > policy.downtime_replicas)
