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
