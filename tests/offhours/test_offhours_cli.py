"""`costguard schedule check`: exit 0 inside, 1 outside, 2 with a clear message for an invalid spec or time."""
import pytest
from typer.testing import CliRunner

from chalice_app.cli import app

OFFICE = "Mon-Fri 07:00-19:00 Europe/London"


@pytest.mark.parametrize("arguments, code, words", [
    ([OFFICE, "--at", "2026-11-24T12:00:00Z"], 0, "is inside"),
    ([OFFICE, "--at", "2026-11-24T19:00:00Z"], 1, "is outside"),
    ([OFFICE, "--at", "2026-12-25T12:00:00Z", "--holidays", "GB-ENG"], 1, "changes at 2026-12-29T07:00:00+00:00"),
    (["Mon-Fri 07:00-19:00", "--at", "2026-11-24T12:30", "--timezone", "America/New_York"], 0, "-05:00 is inside"),
    (["Mon-Fri 25:00-19:00 UTC"], 2, "invalid time '25:00'"),
    ([OFFICE, "--holidays", "XX"], 2, "unknown holiday country 'XX'"),
    ([OFFICE, "--at", "noon"], 2, "invalid time 'noon'"),
    (["always"], 0, "no change ahead"),
])
def test_schedule_check_exit_codes(arguments, code, words):
    result = CliRunner().invoke(app, ["schedule", "check", *arguments])
    assert result.exit_code == code, result.output
    assert words in result.output
