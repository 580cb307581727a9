"""Budget documents are untrusted operator input: non-finite and out-of-range numbers are refused naming the field,
and any document that validates yields limits the real NodePool CRD accepts (its `limits` pattern, read from
../shared/crds, not copied)."""
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from chalice_app.budget.document import MAX_CPU, BudgetDocumentError, parse_budget
from chalice_app.budget.limits import Limits

CRD = Path(__file__).resolve().parents[3] / "shared" / "crds" / "karpenter.sh_nodepools.yaml"


def _doc(amount="100", max_cpu="100", min_cpu="0") -> str:
    return ('{"amount": %s, "nodepools": {"default": {"share": 1, "min_cpu": %s, "max_cpu": %s}}}'
            % (amount, min_cpu, max_cpu))


@pytest.mark.parametrize("text, field", [
    (_doc(amount="Infinity"), "amount"), (_doc(amount="NaN"), "amount"), (_doc(amount="1e308"), "amount"),
    (_doc(max_cpu="Infinity"), "nodepools.default.max_cpu"), (_doc(max_cpu="1e308"), "nodepools.default.max_cpu"),
    (_doc(min_cpu="-Infinity"), "nodepools.default.min_cpu"), (_doc(max_cpu='"lots"'), "nodepools.default.max_cpu"),
])
def test_non_finite_and_out_of_range_numbers_are_refused_naming_the_field(text, field):
    with pytest.raises(BudgetDocumentError, match=re.escape(field + ":")):
        parse_budget(text)


@pytest.mark.parametrize("text", [_doc(amount="9" * 5000), "[" * 100_000 + "]" * 100_000])
def test_huge_numbers_and_deep_nesting_are_one_clear_error(text):
    with pytest.raises(BudgetDocumentError, match="is not JSON"):
        parse_budget(text)


@pytest.fixture(scope="module")
def limits_pattern():
    if not CRD.exists():
        pytest.skip("../shared/crds is absent")
    crd = yaml.safe_load(CRD.read_text())
    [v1] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return re.compile(v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["limits"]
                      ["additionalProperties"]["pattern"])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.floats(min_value=0, max_value=MAX_CPU), st.floats(min_value=0.5, max_value=32), st.integers(0, 64))
def test_every_limit_a_valid_document_can_produce_matches_the_crd_pattern(limits_pattern, cpu, gib_per_vcpu, gpus):
    cpu = float(math.floor(cpu))  # as decide_limits writes them
    limits = Limits(cpu=cpu, memory_gib=float(math.floor(cpu * gib_per_vcpu)), accelerators={"nvidia.com/gpu": gpus})
    for value in limits.as_spec().values():
        assert limits_pattern.fullmatch(value), value


def test_the_old_exponent_form_is_what_the_crd_refuses(limits_pattern):
    assert not limits_pattern.fullmatch(f"{1_600_000.0:g}Gi")  # why as_spec never writes an exponent
