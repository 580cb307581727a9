import pytest

from chalice_app.headroom.spec import HeadroomError, parse_headroom

SOURCE = "NodePool spot annotation"


def test_a_request_in_the_issue_s_words_parses():
    spec = parse_headroom("Mon-Fri 07:00-19:00 Europe/London: 4 vCPU, 8Gi", SOURCE)
    assert (spec.cpu_millis, spec.memory_bytes) == (4000, 8 * 1024 ** 3)
    assert spec.schedule.spec == "Mon-Fri 07:00-19:00 Europe/London"
    assert spec.amount() == "4 vCPU, 8Gi"


def test_millicores_without_memory_and_several_windows():
    spec = parse_headroom("Mon-Fri 07:00-12:00 UTC, Mon-Fri 13:00-19:00 UTC: 500m", SOURCE)
    assert (spec.cpu_millis, spec.memory_bytes, len(spec.schedule.recurring)) == (500, 0, 2)


@pytest.mark.parametrize("text, words", [
    ("Mon-Fri 07:00-19:00 Europe/London", "expected '<time spec>"),
    ("Mon-Fri 07:00-19:00 Mars/Base: 4 vCPU", "unknown time zone"),
    ("Mon-Fri 07:00-19:00 UTC: lots", "is not like '4 vCPU'"),
    ("Mon-Fri 07:00-19:00 UTC: 0 vCPU", "must be above 0"),
    ("Mon-Fri 07:00-19:00 UTC: 100000 vCPU", "at most 256"),
    ("Mon-Fri 07:00-19:00 UTC: 4 vCPU, eight", "memory 'eight'"),
    ("Mon-Fri 07:00-19:00 UTC: 4 vCPU, 8Gi, 3", "more than cpu and memory"),
])
def test_a_bad_request_names_its_source_and_part(text, words):
    with pytest.raises(HeadroomError) as error:
        parse_headroom(text, SOURCE)
    assert SOURCE in str(error.value) and words in str(error.value)
