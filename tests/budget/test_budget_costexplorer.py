import copy
from datetime import datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber

from chalice_app.budget.costexplorer import closed_day_set, closed_days, cost_request, effective_spent
from chalice_app.budget.prices import PriceUnavailable
from tests.slackfakes import RecordingNotifier


def day(start, groups, estimated=False):
    end = (datetime.fromisoformat(start) + timedelta(days=1)).date().isoformat()
    return {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Estimated": estimated,
            "Groups": [{"Keys": [f"karpenter.sh/nodepool${pool}"],
                        "Metrics": {"NetAmortizedCost": {"Amount": f"{usd}", "Unit": "USD"}}} for pool, usd in groups]}


RESULTS = [day("2026-11-01", [("default", 10.5), ("spot", 2.0), ("", 7.0)]),
           day("2026-11-02", [("default", 11.0)]),
           day("2026-11-03", [("default", 3.0)], estimated=True)]


def test_only_closed_days_count_and_untagged_cost_is_nobodys():
    closed = closed_days(RESULTS)
    assert closed["default"] == {"2026-11-01": 10.5, "2026-11-02": 11.0}
    assert closed["spot"] == {"2026-11-01": 2.0}
    assert closed_day_set(closed) == {"2026-11-01", "2026-11-02"}


def test_closed_days_replace_metering_and_open_days_keep_it():
    closed = closed_days(RESULTS)
    metered = {"2026-11-01": 9.0, "2026-11-02": 12.0, "2026-11-03": 5.0}
    assert effective_spent(metered, closed["default"], closed_day_set(closed)) == pytest.approx(10.5 + 11.0 + 5.0)
    # spot had no cost on the 2nd by Cost Explorer's books: that closed day is 0, not our metering
    assert effective_spent({"2026-11-02": 1.0}, closed["spot"], closed_day_set(closed)) == pytest.approx(2.0)


def test_other_currencies_are_refused():
    odd = day("2026-11-01", [("default", 1.0)])
    odd["Groups"][0]["Metrics"]["NetAmortizedCost"]["Unit"] = "EUR"
    with pytest.raises(PriceUnavailable, match="EUR"):
        closed_days([odd])


def test_request_shape_is_accepted_by_botocore():
    import boto3

    client = boto3.client("ce", region_name="us-east-1")
    request = cost_request(datetime(2026, 11, 1).date(), datetime(2026, 11, 4).date())
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": RESULTS}, request)
        assert client.get_cost_and_usage(**request)["ResultsByTime"][0]["Estimated"] is False
    assert request["GroupBy"] == [{"Type": "TAG", "Key": "karpenter.sh/nodepool"}]


def test_handler_uses_cost_explorer_for_closed_days(aws_budget):
    session, run, ledger_spent = aws_budget
    import boto3

    client = boto3.client("ce", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", {"ResultsByTime": [day("2026-11-01", [("default", 50.0)])]})
        summary = run(client)
    status = summary["pools"]["default"]
    # metering booked 0.192 * 24 h * 14 nodes for Nov 1; Cost Explorer's 50 USD replaces it
    assert status["metered"] == pytest.approx(ledger_spent, abs=0.01)
    assert status["spent"] == pytest.approx(ledger_spent - 14 * 0.192 * 24 + 50.0, abs=0.01)


@pytest.fixture
def aws_budget(aws):
    from tests.budget import test_budget_handler as h

    h.put_budget(aws, {**h.BUDGET, "cost_explorer": True})
    now = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)
    claims = copy.deepcopy(h.CLAIMS)
    for claim in claims:
        claim["metadata"]["creationTimestamp"] = "2026-10-30T00:00:00Z"
    kube = h.budget_cluster([h.nodepool("default")], nodeclaims=claims)

    def run(client):
        return h.handler.run(h.SETTINGS, now, h.ports(aws, kube, RecordingNotifier(), ce_client=client))

    return aws, run, 14 * 0.192 * 36

