"""`chalice package` output is a template CloudFormation accepts: cfn-lint finds nothing in sam.json."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
# No finding is allowed: list a rule id here only with the reason it does not apply.
ALLOWED_RULES: dict[str, str] = {}


def lint(template: Path) -> list[dict]:
    result = subprocess.run([str(CFN_LINT), "--format", "json", "--regions", "us-east-1", "--", str(template)],
                            capture_output=True, text=True, timeout=300)
    # Exit status is a bit mask of error (2), warning (4) and informational (8) findings; 1 means cfn-lint failed.
    assert result.returncode % 2 == 0, result.stderr
    return json.loads(result.stdout or "[]")


def test_sam_template_is_clean(packaged):
    output, _ = packaged
    findings = [f for f in lint(output / "sam.json") if f["Rule"]["Id"] not in ALLOWED_RULES]
    assert [(f["Rule"]["Id"], f["Message"]) for f in findings] == []


def test_sam_template_declares_the_layer_functions_and_events(packaged):
    template = json.loads((packaged[0] / "sam.json").read_text())["Resources"]
    functions = {name: r["Properties"] for name, r in template.items() if r["Type"] == "AWS::Serverless::Function"}
    assert sorted(functions) == ["APIHandler", "Budget", "Digests", "Interruptions", "Offhours"]
    assert all(props["Layers"] == [{"Ref": "ManagedLayer"}] for props in functions.values())
    assert all(props["Tracing"] == "Active" for props in functions.values())  # Powertools Tracer needs it
    sqs = functions["Interruptions"]["Events"]["InterruptionsSqsEventSource"]["Properties"]
    assert (sqs["BatchSize"], sqs["MaximumBatchingWindowInSeconds"]) == (10000, 10)
    assert sqs["ScalingConfig"] == {"MaximumConcurrency": 2}  # Slack pacing is per container
    assert functions["Offhours"]["Events"]["OffhoursEvent"]["Properties"]["Schedule"] == "rate(5 minutes)"
    assert functions["Budget"]["Events"]["BudgetEvent"]["Properties"]["Schedule"] == "rate(15 minutes)"
    # Off-hours lists and patches every function (peak ~200 MB at 10,000, benchmarks/bench_offhours.py); Lambda's
    # CPU share grows with memory (AWS: "Lambda allocates CPU power in proportion to the amount of memory").
    assert {name: props["MemorySize"] for name, props in functions.items()} == {
        "APIHandler": 256, "Budget": 256, "Digests": 256, "Interruptions": 256, "Offhours": 512}
    paths = template["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert set(paths) == {"/slack/actions"} and set(paths["/slack/actions"]) == {"post"}  # the Slack route only


def test_cfn_lint_would_catch_a_broken_template(packaged, tmp_path):
    # Guards the clean result above: a malformed property must be reported.
    template = json.loads((packaged[0] / "sam.json").read_text())
    template["Resources"]["Budget"]["Properties"]["Timeout"] = "five minutes"
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(template))
    assert [f["Rule"]["Id"] for f in lint(broken)] == ["E3012"]
