"""boto3 clients made once per Lambda container and reused by every later event.

AWS's Lambda guidance: "Initialize SDK clients … outside of the function handler" so warm invocations reuse them
(https://docs.aws.amazon.com/lambda/latest/dg/best-practices.html). Making a client loads its service model (tens of
milliseconds to a second on a busy 128 MB Lambda), which a batch of messages should not pay each time. Clients are
thread-safe (boto3 docs, "Multithreading or multiprocessing with clients"); resources are not, so a resource is only
for the single-threaded run log. The key holds the endpoint and access key the environment names, so a process that
switches environments (tests, the sandbox) never gets a client of the previous one; `reset_cache` forgets them all.
"""
from __future__ import annotations

import os
import threading
from typing import Any

import boto3

_lock = threading.Lock()
_cached_objects: dict[tuple, Any] = {}


def _cached(kind: str, service: str, region: str | None):
    key = (kind, service, region, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ACCESS_KEY_ID"),
           os.environ.get("AWS_PROFILE"))
    with _lock:
        if key not in _cached_objects:
            make = getattr(boto3.session.Session(), kind)  # Session.client or Session.resource
            _cached_objects[key] = make(service, region_name=region)
        return _cached_objects[key]


def client(service: str, region: str | None = None):
    """The container's client for `service` in `region` (None: the environment's region)."""
    return _cached("client", service, region)


def resource(service: str, region: str | None = None):
    """The container's resource for `service`; not for use across threads."""
    return _cached("resource", service, region)


def reset_cache() -> None:
    """Forget every cached client (tests switch sandboxes between runs)."""
    with _lock:
        _cached_objects.clear()
