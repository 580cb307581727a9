"""The one paged list: every item of a Kubernetes collection (core, apps or a custom resource) as plain dicts.

Pages of PAGE_SIZE items follow the API server's `continue` token (kubernetes/website docs, "API Concepts",
"Retrieving large results sets in chunks"): one request per page, whatever the number of items. Each page is
reduced to plain dicts as it comes and its connection released (kube.rest), so a list of 10,000 Deployments
never holds the client's model objects or a pool connection.
"""
from __future__ import annotations

from typing import Iterator

from kubernetes import client as k8s

from chalice_app.kube.rest import get_json

PAGE_SIZE = 500  # the off-hours issue's "one list page per 500"; a 500-item page of Deployments is ~1-2 MB


def pages(api: k8s.ApiClient, path: str, label_selector: str | None = None,
          field_selector: str | None = None) -> Iterator[list[dict]]:
    """Each page's items, one request per page; `path` from kube.rest.resource_path."""
    selectors = [("labelSelector", label_selector), ("fieldSelector", field_selector)]
    token = None
    while True:
        query = [("limit", PAGE_SIZE)] + [(key, value) for key, value in selectors if value]
        if token:
            query.append(("continue", token))
        page = get_json(api, path, query)
        yield page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


def list_items(api: k8s.ApiClient, path: str, label_selector: str | None = None,
               field_selector: str | None = None) -> list[dict]:
    """Every item of the collection at `path`."""
    return [item for page in pages(api, path, label_selector, field_selector) for item in page]
