"""Each notice as a core/v1 Event on its Node, bounded per batch. Pure: bodies only."""
from chalice_app.interruptions.correlation import correlate
from chalice_app.interruptions.node_events import MAX_EVENTS_PER_BATCH, event_body, plan_events
from chalice_app.interruptions.parsing import parse_event
from tests.interruptions import factories as f


def test_event_names_the_node_reason_and_deadline_like_node_termination_handler():
    node = f.node(1)
    node["metadata"]["uid"] = "uid-1"
    impact = correlate([parse_event(f.spot_warning(1, event_id="e-1"))], [node], [], []).impacts[0]
    body = event_body(impact, f.NOW)
    assert body["metadata"]["namespace"] == "default" and body["type"] == "Warning"
    assert body["involvedObject"] == {"apiVersion": "v1", "kind": "Node", "name": f.node_name(1), "uid": "uid-1"}
    assert body["reason"] == "SpotInterruption" and body["source"] == {"component": "costguard"}
    assert "deadline 2026-11-24T18:02:00Z" in body["message"] and "e-1" in body["message"]
    assert body["metadata"]["annotations"]["instance-id"] == f.instance_id(1)
    assert event_body(impact, f.NOW)["metadata"]["name"] == body["metadata"]["name"]  # a redelivery is a 409


def test_a_burst_records_a_bounded_number_of_events_and_says_how_many_were_left_out():
    count = MAX_EVENTS_PER_BATCH + 7
    impacts = correlate([parse_event(f.spot_warning(n)) for n in range(count)], [f.node(n) for n in range(count)],
                        [], []).impacts
    bodies, left_out = plan_events(impacts, f.NOW)
    assert len(bodies) == MAX_EVENTS_PER_BATCH and left_out == 7
