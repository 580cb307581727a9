"""A budget run with one hostile NodePool and one unreadable EC2NodeClass, end to end (moto, in-memory cluster):
the good pool is patched as without them, the bad pool's field and value are named in the run summary, the run log
and Slack (`budget plan`'s rows: test_budget_isolation.py), and the run itself succeeds."""
import json

from chalice_app.runlog import RunLog
from tests.budget.factories import BUDGET, nodepool
from tests.budget.test_budget_handler import CLAIMS, PODS, SETTINGS, prices, put_budget, run, seed_ledger
from tests.memory_cluster import budget_cluster
from tests.slackfakes import RecordingNotifier

DOCUMENT = {**BUDGET, "nodepools": {"default": BUDGET["nodepools"]["default"], "hostile": {"amount": 300}}}


def hostile_cluster(hostile: bool = True):
    pools = [nodepool("default")]
    nodeclasses = []
    if hostile:
        bad = nodepool("hostile", annotations={"costguard.openfaas.com/headroom": "<!channel>"})
        bad["spec"]["limits"] = {"cpu": "²"}
        bad["spec"]["template"]["spec"]["nodeClassRef"]["name"] = "broken"
        pools.append(bad)
        nodeclasses.append({"metadata": {"name": "broken"}, "spec": {"blockDeviceMappings": ["not a mapping"]}})
    return budget_cluster(pools, nodeclaims=CLAIMS, pods=PODS, nodeclasses=nodeclasses)


def test_one_hostile_nodepool_is_its_own_error_and_the_other_pool_is_reconciled(aws):
    put_budget(aws, DOCUMENT)
    seed_ledger(aws, 560.0)
    kube, slack = hostile_cluster(True), RecordingNotifier()
    summary = run(aws, kube, slack, source=prices(aws))
    # what test_crossing_80_percent_lowers_the_limit_and_says_why gets without the hostile pool
    assert kube.pools["default"]["spec"]["limits"] == {"cpu": "50", "memory": "200Gi"}
    assert kube.pools["hostile"]["spec"]["limits"] == {"cpu": "²"}  # left as it was
    named = "spec.limits.cpu: '²'"
    assert named in summary["pools"]["hostile"]["problem"] and summary["applied"] and not summary["failures"]
    assert any(named in message.text or named in json.dumps(message.blocks) for message in slack.sent)
    last = RunLog(SETTINGS.table_name, aws).last_runs()["budget"]
    assert last["ok"] and named in json.dumps(last["summary"], ensure_ascii=False)

