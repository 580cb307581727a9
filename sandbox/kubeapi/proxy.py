"""The API server's service proxy: `/api/v1/namespaces/<ns>/services/[<scheme>:]<name>:<port>/proxy/<path>`, the way a
client outside the cluster reaches a ClusterIP service (https://kubernetes.io/docs/tasks/access-application-cluster/
access-cluster-services/#manually-constructing-apiserver-proxy-urls). Authorized as kube-apiserver does: resource
`services`, subresource `proxy`, the name as written in the URL (`prometheus:9090`), verb from the HTTP method
(k8s.io/apiserver pkg/endpoints/request/requestinfo.go). The sandbox registers a handler per service port."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote

from sandbox.kubeapi.rbac import Attributes

_PATH = re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/services/(?P<name>[^/]+)/proxy(?P<rest>/.*)?$")
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}

# (method, path after /proxy, query) -> (status, content type, body)
ServiceHandler = Callable[[str, str, dict[str, str]], tuple[int, str, bytes]]


@dataclass(frozen=True)
class ProxyRoute:
    namespace: str
    name: str   # as in the URL: [scheme:]service[:port]
    path: str

    @property
    def service(self) -> str:
        parts = self.name.split(":")
        return parts[1] if len(parts) == 3 else parts[0]

    @property
    def port(self) -> str:
        parts = self.name.split(":")
        return parts[-1] if len(parts) > 1 else ""

    def attributes(self, method: str) -> Attributes:
        return Attributes(_VERBS.get(method, method.lower()), "", "services", "proxy", self.name, self.namespace)


def parse(path: str) -> ProxyRoute | None:
    """The path as sent; percent-escapes are decoded as Go's net/http decodes URL.Path before kube-apiserver routes
    it (a client may send `prometheus%3A9090`)."""
    match = _PATH.match(path)
    if match is None:
        return None
    return ProxyRoute(unquote(match.group("namespace")), unquote(match.group("name")),
                      unquote(match.group("rest") or "/"))
