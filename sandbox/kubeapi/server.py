"""`FakeKubeApi`: the HTTP shell (a ThreadingHTTPServer on 127.0.0.1) around authentication, faults, RBAC and the
verb handlers, recording every request."""
from __future__ import annotations

import json
import logging
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.kubeapi import discovery, errors, priority, proxy, routing, tables, tls
from sandbox.kubeapi.auth import (
    AccessEntry, AccessKey, Authenticator, Identity, default_access_entries, default_access_keys,
)
from sandbox.kubeapi.faults import Fault, FaultInjector
from sandbox.kubeapi.handlers import Handlers, Request
from sandbox.kubeapi.rbac import forbidden, is_allowed, load_policy_file
from sandbox.kubeapi.schemas import SchemaRegistry
from sandbox.kubeapi.store import Store, dumps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    user: str | None
    status: int
    content_type: str = field(default="", compare=False)


class FakeKubeApi:
    """A Kubernetes API server on loopback for tests and the demo; see sandbox/kubeapi/__init__.py."""

    def __init__(self, cluster_name: str = "openfaas", region: str = "us-east-1", rbac_file: Path | None = None,
                 crd_dir: Path | None = None, access_keys: dict[str, AccessKey] | None = None,
                 access_entries: dict[str, AccessEntry] | None = None, host: str = "127.0.0.1", port: int = 0,
                 https: bool = True):
        """`https=True` (like every EKS endpoint) serves TLS with a CA made for this server: `ca_data`, `ca_file`."""
        self.cluster_name = cluster_name
        self.region = region
        self.schemas = SchemaRegistry(Path(crd_dir) if crd_dir else None)
        self.store = Store(validate=self.schemas.validate_in_place)
        # kube-apiserver makes the system PriorityClasses at start (sandbox/kubeapi/priority.py).
        self.store.put_many(priority.system_classes())
        self.faults = FaultInjector()
        self.authenticator = Authenticator(cluster_name, access_keys or default_access_keys(),
                                           access_entries or default_access_entries())
        self.bindings = load_policy_file(Path(rbac_file) if rbac_file else None)
        self.handlers = Handlers(self.store, self.schemas)
        # (namespace, service, port) -> handler behind the service proxy (sandbox/kubeapi/proxy.py)
        self.services: dict[tuple[str, str, str], proxy.ServiceHandler] = {}
        self.discovery = discovery.Discovery(Path(crd_dir) if crd_dir else None)
        self.https = https
        self.tls: tls.TlsFiles | None = None
        self._records: list[RequestRecord] = []
        self._records_lock = threading.Lock()
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> "FakeKubeApi":
        if self._server is not None:
            return self
        server = _Server(self._address, _HttpHandler)
        server.api = self  # type: ignore[attr-defined]
        if self.https:
            self.tls = tls.TlsFiles(tls.issue(self._address[0]))
            # The handshake runs in the request's thread (on first read), so one slow client never blocks accept().
            server.socket = self.tls.server_context().wrap_socket(server.socket, server_side=True,
                                                                  do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        if self.tls is not None:
            self.tls.close()
            self.tls = None

    def __enter__(self) -> "FakeKubeApi":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeKubeApi is not started; call start() first")
        host, port = self._server.server_address[:2]
        return f"{'https' if self.https else 'http'}://{host}:{port}"

    @property
    def ca_data(self) -> str | None:
        """The server's CA, base64 PEM (eks:DescribeCluster's certificateAuthority.data); None over plain HTTP."""
        return self.tls.credentials.ca_data if self.tls else None

    @property
    def ca_file(self) -> str | None:
        """Path of the CA's PEM file (kubernetes Configuration.ssl_ca_cert), valid while the server runs."""
        return str(self.tls.ca_file) if self.tls else None

    # ---- request log --------------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        with self._records_lock:
            return list(self._records)

    def reset_requests(self) -> None:
        with self._records_lock:
            self._records.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._records_lock:
            self._records.append(record)

    # ---- dispatch -----------------------------------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes
                 ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange: authenticate, inject faults, route, authorize, handle; Status JSON on errors."""
        parts = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        content_type = headers.get("content-type", "")
        identity: Identity | None = None
        extra_headers: dict[str, str] = {}
        try:
            identity = self.authenticator.authenticate(headers.get("authorization"))
            if identity is None:
                raise errors.unauthorized()
            self._apply_fault(method, parts.path)
            proxied = proxy.parse(parts.path)
            if proxied is not None:
                status, proxied_type, payload = self._proxy(identity, method, proxied, query)
                extra_headers = {"Content-Type": proxied_type}
            else:
                status, payload = self._serve(identity, method, parts.path, query, content_type, body,
                                              headers.get("accept", ""))
        except errors.ApiError as error:
            status, payload, extra_headers = error.code, dumps(error.status()), error.headers
        except Exception as error:  # a sandbox bug must still answer (a dropped connection would be retried)
            logger.exception("fake Kubernetes API server failed on %s %s", method, target)
            failure = errors.ApiError(500, "InternalError", f"sandbox API server error: {error!r}")
            status, payload = failure.code, dumps(failure.status())
        self._record(RequestRecord(method, parts.path, query, identity.user if identity else None, status,
                                   content_type))
        return status, {"Content-Type": "application/json", **extra_headers}, payload

    def _apply_fault(self, method: str, path: str) -> None:
        fault: Fault | None = self.faults.take(method, path)
        if fault is None:
            return
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status and fault.status >= 400:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            details = {"retryAfterSeconds": fault.retry_after} if fault.retry_after is not None else None
            raise errors.ApiError(fault.status, fault.reason, fault.text, details, headers)

    def register_service(self, namespace: str, service: str, port: str, handler: proxy.ServiceHandler) -> None:
        """Serve a ClusterIP service's port behind `/api/v1/namespaces/<ns>/services/<service>:<port>/proxy/`."""
        self.services[(namespace, service, str(port))] = handler

    def _proxy(self, identity: Identity, method: str, route: proxy.ProxyRoute, query: dict[str, str]
               ) -> tuple[int, str, bytes]:
        attributes = route.attributes(method)
        if not is_allowed(self.bindings, identity, attributes):
            raise forbidden(identity, attributes)
        ports = {port for (namespace, service, port) in self.services
                 if (namespace, service) == (route.namespace, route.service)}
        if not ports:
            raise errors.not_found("services", "", route.service)
        port = route.port or (next(iter(ports)) if len(ports) == 1 else "")
        if port not in ports:
            raise errors.ApiError(503, "ServiceUnavailable",
                                  f'no endpoints available for service "{route.name}"')
        return self.services[(route.namespace, route.service, port)](method, route.path, query)

    def _serve(self, identity: Identity, method: str, path: str, query: dict[str, str], content_type: str,
               body: bytes, accept: str = "") -> tuple[int, bytes]:
        if method == "GET":
            document = self.discovery.document(path)
            if document is not None:
                return 200, dumps(document)
        route = routing.parse(path)
        if route is None:
            raise errors.path_not_found(path)
        attributes = route.attributes(method, query)
        if not is_allowed(self.bindings, identity, attributes):
            raise forbidden(identity, attributes)
        parsed = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError as error:
                raise errors.bad_request(f"the request body is not valid JSON: {error}") from None
        status, payload = self.handlers.handle(Request(method, route, query, content_type, parsed, identity))
        table_version = tables.wants_table(accept) if method == "GET" and route.subresource is None else None
        if table_version and status == 200:  # kubectl get: server-side printing
            crd = self.discovery.crd(route.resource)
            payload = tables.to_table(route.resource, payload, table_version, query,
                                      crd.printer_columns if crd else None)
        return status, payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout, closed pool) is routine in fault tests, not an error to print; so is
        # one that refused the certificate (a client without the sandbox's CA).
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment (the base class flushes after each request); without this, Nagle's
    # algorithm and delayed ACKs add ~40 ms to every keep-alive exchange.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "costguard-sandbox-kube-apiserver"

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, response_headers, payload = self.server.api.dispatch(  # type: ignore[attr-defined]
            self.command, self.path, headers, body)
        self.send_response(status)
        for key, value in response_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _respond

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass
