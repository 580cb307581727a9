"""Digests (pure) and `costguard interruptions history|digest` on the stage table (moto in process)."""
from collections import Counter
from datetime import date, datetime, timezone

from typer.testing import CliRunner

from chalice_app.cli import app as cli_app
from chalice_app.interruptions.digest import history_rows, karpenter_digest, karpenter_summary, spot_digest
from chalice_app.interruptions.records import SPOT_LIFETIME, DISRUPTED_LIFETIME, InterruptionRecords
from chalice_app.table_keys import disrupted_key, spot_key
from chalice_app.slack.render import to_text
from tests.interruptions.conftest import TABLE

DAY = date(2026, 11, 24)


def test_karpenter_digest_reads_like_the_issue_asks():
    counts = Counter({("spot", "Underutilized"): 7, ("default", "Underutilized"): 3, ("spot", "Empty"): 3,
                      ("default", "Drifted"): 1})
    assert karpenter_summary(counts, DAY) == ("Karpenter replaced 14 nodes on 2026-11-24: 10 underutilized, "
                                              "3 empty, 1 drifted")
    text = to_text(karpenter_digest(counts, DAY, "prod"))
    assert "NodePool spot: 7 underutilized, 3 empty" in text.replace("*", "")
    assert karpenter_digest(Counter(), DAY, "prod") is None


def test_spot_digest_names_the_most_reclaimed_types_and_zones_escaped():
    counts = {"2026-W47": Counter({("m5.large", "us-east-1a"): 5, ("c5.xlarge", "us-east-1b"): 2}),
              "2026-W48": Counter({("m5.large", "us-east-1b"): 1, ("<!here>", "us-east-1a"): 1})}
    message = spot_digest(counts, "prod", 2)
    text = to_text(message)
    assert message.text == "Spot reclaims, last 2 weeks: 9 warnings"
    assert "m5.large ×6" in text and "us-east-1a ×6" in text
    assert "<!here>" not in str(message.blocks)
    assert spot_digest({}, "prod", 4) is None
    assert history_rows(["2026-W48", "2026-W46"], counts) == [
        ("2026-W48", 2, "m5.large in us-east-1b ×1, <!here> in us-east-1a ×1"), ("2026-W46", 0, "-")]


def test_history_and_digest_commands_read_the_stage_table(dynamodb, monkeypatch):
    now = datetime.now(timezone.utc)
    table = InterruptionRecords(TABLE, dynamodb)
    table.add_counts(spot_key(now), Counter({"n:m5.large|us-east-1a": 4}), SPOT_LIFETIME)
    table.add_counts(disrupted_key(now.date()), Counter({"n:spot|Empty": 2}), DISRUPTED_LIFETIME)
    env = {"COSTGUARD_CLUSTER_NAME": "prod", "COSTGUARD_TABLE_NAME": TABLE, "COSTGUARD_STAGE": "test",
           "AWS_REGION": "us-east-1", "COLUMNS": "200"}
    result = CliRunner().invoke(cli_app, ["interruptions", "history", "--weeks", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert "m5.large in us-east-1a ×4" in result.output and result.output.count("-W") >= 3
    result = CliRunner().invoke(cli_app, ["interruptions", "digest"], env=env)
    assert result.exit_code == 0 and "Karpenter replaced 2 nodes" in result.output
    bad = CliRunner().invoke(cli_app, ["interruptions", "digest", "--day", "yesterday"], env=env)
    assert bad.exit_code == 2 and "expected YYYY-MM-DD" in bad.output
    unsent = CliRunner().invoke(cli_app, ["interruptions", "digest", "--send"], env=env)
    assert unsent.exit_code == 2 and "Slack is not configured" in unsent.output
