"""Every input-only CLI command answers any input with a result or one line on stderr (exit 2), never a traceback:
hypothesis drives `events parse`, `schedule check` and `budget validate` in-process through the CLI's own app."""
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from chalice_app.cli import app

RUNNER = CliRunner()
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The inputs issue 12 found tracebacks with, mixed in with generated ones.
NASTY_TEXT = ("[" * 50_000 + "]" * 50_000, '{"detail": ' + "9" * 5000 + "}", "\udcff", "Infinity", "1e308")
times = st.one_of(st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31",
                                   "0001-01-01", "2026-11-24T19:05:00Z"]),
                  st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()), st.text(max_size=30))
numbers = st.one_of(st.floats(), st.integers(), st.sampled_from(["Infinity", "NaN", "1e308", "9" * 5000]),
                    st.text(max_size=10))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=12)


def _run(args: list[str]):
    result = RUNNER.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        assert "Traceback" not in result.output
    return result


SCRATCH = tempfile.TemporaryDirectory(prefix="costguard-fuzz-")  # removed when the test process ends


def _file(text: str) -> str:
    path = Path(SCRATCH.name) / "input.json"
    path.write_text(text, errors="surrogateescape")
    return str(path)


def _event(time: str, detail: object) -> str:
    return json.dumps({"version": "0", "id": "1", "detail-type": "EC2 Spot Instance Interruption Warning",
                       "source": "aws.ec2", "account": "123456789012", "time": time, "region": "us-east-1",
                       "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234"], "detail": detail})


@FUZZ
@given(st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=200), json_values.map(json.dumps),
                 st.builds(_event, times, st.one_of(json_values, st.just({"instance-id": "i-0abc1234",
                                                                          "instance-action": "terminate"})))))
def test_events_parse_never_tracebacks(text):
    _run(["events", "parse", _file(text)])


@FUZZ
@given(st.one_of(st.text(max_size=60), st.sampled_from(["Mon-Fri 07:00-19:00 America", "Mon-Fri 07:00-19:00 UTC",
                                                         "always", "2026-11-24T19:00:00Z-9999-12-31T23:59:59Z"])),
       times, st.one_of(st.none(), st.text(max_size=8), st.just("GB-ENG")),
       st.one_of(st.sampled_from(["UTC", "America", "Europe/London", "../etc"]), st.text(max_size=20)))
def test_schedule_check_never_tracebacks(spec, at, holidays, zone):
    args = ["schedule", "check", spec, "--at", at, "--timezone", zone] + (["--holidays", holidays] if holidays else [])
    _run(args)


@FUZZ
@given(numbers, numbers, numbers, st.one_of(st.none(), json_values))
def test_budget_validate_never_tracebacks(amount, max_cpu, min_cpu, extra):
    def raw(value):
        return value if isinstance(value, str) and value in ("Infinity", "NaN", "1e308", "9" * 5000) \
            else json.dumps(value)
    text = ('{"amount": %s, "nodepools": {"default": {"share": 1, "min_cpu": %s, "max_cpu": %s}}%s}'
            % (raw(amount), raw(min_cpu), raw(max_cpu), "" if extra is None else ', "extra": ' + json.dumps(extra)))
    _run(["budget", "validate", _file(text)])
