"""Shared test set-up: no test may reach anything but loopback, and AWS calls go to the sandbox or fail."""
import os

# Dummy credentials so no test can pick up a developer's real AWS identity.
for variable, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "CostguardTest",
}.items():
    os.environ[variable] = value
os.environ.pop("AWS_PROFILE", None)

# Every run behaves as if the machine booted a second ago: time.monotonic() counts from boot, so code that treats
# 0.0 as "long ago" only breaks on fresh machines (CI runners, containers). Shifting the clock here makes such a bug
# fail on every machine. Modules that bind `time.monotonic` later (defaults, attribute look-ups) get the shifted one;
# the interpreter's own users (threading, queue) keep theirs and never mix the two.
import time as _time  # noqa: E402

_real_monotonic = _time.monotonic
_boot_offset = _real_monotonic() - 1.0


def _monotonic_since_fresh_boot() -> float:
    return _real_monotonic() - _boot_offset


_time.monotonic = _monotonic_since_fresh_boot
