"""The suite runs as on a machine booted a second ago (tests/conftest.py), so uptime-dependent bugs fail here too."""
import time

from tests.kubeapi.conftest import token


def test_the_suite_sees_a_monotonic_clock_near_boot():
    # The whole suite takes minutes, not hours: a real uptime would be far larger on any long-lived machine.
    assert time.monotonic() < 3600


def test_a_token_is_minted_on_first_use_even_right_after_boot():
    # The old cache started from a fake epoch of 0.0 and handed out "" for the first five minutes of uptime.
    minted = token("fresh-boot-key")
    assert minted.startswith("k8s-aws-v1.")
