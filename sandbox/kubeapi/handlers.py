"""The verbs: get, list, create, update, patch, delete, deletecollection, and the scale, status and eviction
subresources. Each takes a parsed request and returns (status code, JSON bytes); errors are raised as ApiError.
Read-modify-write happens under the store's lock, so concurrent writers see 409s, never lost updates."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sandbox.kubeapi import admission, custom_scale, errors, objects, patches
from sandbox.kubeapi.auth import Identity
from sandbox.kubeapi.eviction import check_eviction, pdb_status
from sandbox.kubeapi.resources import DEPLOYMENTS, NAMESPACES, PDBS, PODS, RESOURCES, ResourceType
from sandbox.kubeapi.routing import Route
from sandbox.kubeapi.schemas import SchemaRegistry
from sandbox.kubeapi.selectors import combine, field_selector, label_selector
from sandbox.kubeapi.store import Store, dumps, now_timestamp


@dataclass(frozen=True)
class Request:
    method: str
    route: Route
    query: dict[str, str]
    content_type: str
    body: Any  # parsed JSON or None
    identity: Identity | None = None  # who asks, for ValidatingAdmissionPolicies (None: not admitted)

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    @property
    def strict(self) -> bool:
        return self.query.get("fieldValidation") == "Strict"


Response = tuple[int, bytes]
_SUBRESOURCE_METHODS = {"eviction": ("POST",), "scale": ("GET", "PUT", "PATCH"), "status": ("GET", "PUT", "PATCH")}


class Handlers:
    def __init__(self, store: Store, schemas: SchemaRegistry):
        self.store = store
        self.schemas = schemas
        self.policies = admission.PolicyAdmission(store)

    def handle(self, request: Request) -> Response:
        route = request.route
        method = request.method
        if route.subresource is not None:
            if method not in _SUBRESOURCE_METHODS[route.subresource]:
                raise errors.method_not_allowed(method)
            if route.subresource == "eviction":
                return self.evict(request)
            if route.subresource == "scale":
                return self.scale(request)
        if route.name is None:
            if method == "GET":
                return self.list(request)
            if method == "POST":
                return self.create(request)
            if method == "DELETE":
                return self.delete_collection(request)
            raise errors.method_not_allowed(method)
        if method == "GET":
            return 200, self._observed(route.resource, [self._existing(route).raw])[0]
        if method in ("PUT", "PATCH"):
            return self.write(request)
        if method == "DELETE":
            return self.delete(request)
        raise errors.method_not_allowed(method)

    # ---- reads --------------------------------------------------------------------------------------------------
    def _existing(self, route: Route):
        entry = self.store.read(route.resource, route.namespace, route.name)
        if entry is None:
            raise errors.not_found(route.resource.plural, route.resource.group, route.name)
        return entry

    def list(self, request: Request) -> Response:
        route, query = request.route, request.query
        if query.get("watch") in ("true", "1"):
            raise errors.ApiError(405, "MethodNotAllowed", "watch is not supported by the sandbox API server")
        predicate = combine(label_selector(query.get("labelSelector")),
                            field_selector(query.get("fieldSelector"), route.resource.kind))
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise errors.bad_request(f"limit must be an integer: {query.get('limit')!r}") from None
        page = self.store.page(route.resource, route.namespace, predicate, max(limit, 0) or None,
                               query.get("continue") or None)
        metadata: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            metadata["continue"] = page.continue_token
        if page.remaining is not None:
            metadata["remainingItemCount"] = page.remaining
        head = dumps({"apiVersion": route.resource.api_version, "kind": route.resource.list_kind,
                      "metadata": metadata})
        raws = self._observed(route.resource, page.raws)
        return 200, head[:-1] + b',"items":[' + b",".join(raws) + b"]}"

    def _observed(self, resource: ResourceType, raws: list[bytes]) -> list[bytes]:
        """PodDisruptionBudgets are served with the status the disruption controller would report now."""
        if resource is not PDBS:
            return raws
        observed = []
        with self.store.lock:
            for raw in raws:
                pdb = json.loads(raw)
                namespace = pdb["metadata"]["namespace"]
                pdb["status"] = {**(pdb.get("status") or {}), **pdb_status(
                    pdb, self.store.objects(PODS, namespace), self.store.objects(DEPLOYMENTS, namespace))}
                observed.append(dumps(pdb))
        return observed

    # ---- writes -------------------------------------------------------------------------------------------------
    def _admit(self, resource: ResourceType, obj: dict, strict: bool, old: dict | None = None) -> dict:
        if resource.custom:
            return self.schemas.admit(resource, obj, strict, old)
        objects.validate_builtin(resource, obj)
        admission.validate_policy(resource, obj)
        return obj

    def _admit_policies(self, request: Request, operation: str, obj: dict | None, old: dict | None,
                        kind: tuple[str, str, str] | None = None) -> None:
        """ValidatingAdmissionPolicies, after the object's own validation (as the registry calls them)."""
        if request.identity is None:
            return
        route = request.route
        name = route.name or ((obj or {}).get("metadata") or {}).get("name") or ""
        self.policies.admit(admission.Attributes(operation, route.resource, route.subresource or "", name,
                                                 route.namespace or "", obj, old, request.identity,
                                                 request.dry_run, kind))

    def create(self, request: Request) -> Response:
        route = request.route
        obj = objects.check_identity(route.resource, request.body, route.namespace, None)
        obj = objects.prepare_create(obj)
        obj = self._admit(route.resource, obj, request.strict)
        with self.store.lock:
            if route.resource.namespaced and self.store.read(NAMESPACES, None, route.namespace) is None:
                raise errors.not_found("namespaces", "", route.namespace)
            self._admit_policies(request, "CREATE", obj, None)
            if request.dry_run:
                if self.store.read(route.resource, route.namespace, obj["metadata"]["name"]) is not None:
                    raise errors.already_exists(route.resource.plural, route.resource.group,
                                                obj["metadata"]["name"])
                return 201, dumps(obj)
            return 201, self.store.create(route.resource, obj).raw

    def write(self, request: Request) -> Response:
        """PUT or PATCH of an object or its status."""
        route = request.route
        resource = route.resource
        with self.store.lock:
            entry = self._existing(route)
            stored = entry.copy()
            if request.method == "PUT":
                new = objects.check_identity(resource, request.body, route.namespace, route.name)
                sent_version = new["metadata"].get("resourceVersion")
                if resource.custom and not sent_version and route.subresource is None:
                    raise errors.invalid(resource.kind, resource.group, route.name, [(
                        "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
            else:
                new = patches.apply(request.content_type, stored, request.body, resource.custom)
                if not isinstance(new, dict):
                    raise errors.bad_request("the patch did not produce an object")
                sent_version = (new.get("metadata") or {}).get("resourceVersion")
                objects.check_identity(resource, new, route.namespace, route.name)
            objects.check_resource_version(resource, entry.obj, sent_version)
            merged = objects.merge_update(resource, entry.obj, new, route.subresource)
            merged = self._admit(resource, merged, request.strict, entry.obj)
            self._admit_policies(request, "UPDATE", merged, entry.obj)
            if merged == entry.obj or request.dry_run:
                return 200, dumps(merged) if request.dry_run else entry.raw
            if merged["metadata"].get("deletionTimestamp") and not merged["metadata"].get("finalizers"):
                self.store.remove(resource, route.namespace, route.name)  # the last finalizer is gone
                return 200, dumps(merged)
            return 200, self.store.replace(resource, merged).raw

    def _scale_view(self, resource: ResourceType):
        """(object -> Scale, (object, Scale) -> object) for a Deployment, or for a custom resource from its CRD's
        `subresources.scale` (custom_scale.py)."""
        if not resource.custom:
            return objects.scale_of, objects.apply_scale
        crd = self.schemas.schemas.get((resource.group, resource.version, resource.kind))
        if crd is None or crd.scale is None:
            raise errors.path_not_found(f"{resource.plural}/scale")
        return (lambda obj: custom_scale.scale_of(obj, crd.scale),
                lambda obj, new: custom_scale.apply_scale(obj, new, crd.scale))

    def scale(self, request: Request) -> Response:
        route = request.route
        view, apply_scale = self._scale_view(route.resource)
        custom_view = None
        if route.resource.custom:  # ScaleREST.Update reads the old Scale even without replicas (etcd.go)
            crd_scale = self.schemas.schemas[(route.resource.group, route.resource.version, route.resource.kind)].scale
            custom_view = lambda obj: custom_scale.scale_of(obj, crd_scale, for_update=True)  # noqa: E731
        with self.store.lock:
            entry = self._existing(route)
            if request.method == "GET":
                return 200, dumps(view(entry.obj))
            current = custom_view(entry.obj) if custom_view else view(entry.obj)
            if request.method == "PUT":
                new_scale = request.body
                if not isinstance(new_scale, dict):
                    raise errors.bad_request("the body must be an autoscaling/v1 Scale object")
            else:
                new_scale = patches.apply(request.content_type, current, request.body, custom=False)
            objects.check_resource_version(route.resource, entry.obj,
                                           ((new_scale.get("metadata") or {}).get("resourceVersion")
                                            if isinstance(new_scale, dict) else None))
            updated = apply_scale(entry.obj, new_scale)
            merged = objects.merge_update(route.resource, entry.obj, updated, None)
            if route.resource.custom:  # the whole custom object is validated, CEL rules included
                merged = self._admit(route.resource, merged, False, entry.obj)
            self._admit_policies(request, "UPDATE", view(merged), view(entry.obj), ("autoscaling", "v1", "Scale"))
            if merged != entry.obj and not request.dry_run:
                entry = self.store.replace(route.resource, merged)
                return 200, dumps(view(entry.obj))
            return 200, dumps(view(merged))

    def delete(self, request: Request) -> Response:
        route = request.route
        with self.store.lock:
            entry = self._existing(route)
            options = request.body if isinstance(request.body, dict) else {}
            self._check_preconditions(route, entry.obj, options.get("preconditions") or {})
            self._admit_policies(request, "DELETE", None, entry.obj)
            if entry.obj["metadata"].get("finalizers"):
                # Finalizers pending: the object stays, marked deleting, until its controllers remove them
                # (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go).
                return 200, entry.raw if request.dry_run else self._mark_deleting(route.resource, entry)
            if not request.dry_run:
                self.store.remove(route.resource, route.namespace, route.name)
                if route.resource is NAMESPACES:
                    self._delete_namespace_contents(route.name)
        if route.resource.returns_deleted_object:
            return 200, entry.raw
        return 200, dumps(objects.success_status(route.resource, entry.obj))

    def _mark_deleting(self, resource: ResourceType, entry) -> bytes:
        if entry.obj["metadata"].get("deletionTimestamp"):
            return entry.raw
        marked = entry.copy()
        marked["metadata"]["deletionTimestamp"] = now_timestamp()
        marked["metadata"]["deletionGracePeriodSeconds"] = 0
        return self.store.replace(resource, marked).raw

    @staticmethod
    def _check_preconditions(route: Route, stored: dict, preconditions: dict) -> None:
        """DeleteOptions.preconditions: 409 when the uid or resourceVersion named is not the stored one."""
        objects.check_resource_version(route.resource, stored, preconditions.get("resourceVersion"))
        if preconditions.get("uid") and preconditions["uid"] != stored["metadata"].get("uid"):
            raise errors.conflict(route.resource.plural, route.resource.group, route.name)

    def _delete_namespace_contents(self, namespace: str) -> None:
        for resource in RESOURCES:
            if resource.namespaced:
                for obj in self.store.objects(resource, namespace):
                    self.store.remove(resource, namespace, obj["metadata"]["name"])

    def delete_collection(self, request: Request) -> Response:
        route, query = request.route, request.query
        predicate = combine(label_selector(query.get("labelSelector")),
                            field_selector(query.get("fieldSelector"), route.resource.kind))
        with self.store.lock:
            doomed = self.store.objects(route.resource, route.namespace, predicate)
            if not request.dry_run:
                for obj in doomed:
                    self.store.remove(route.resource, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        return 200, dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                           "details": errors.details(None, route.resource.group, route.resource.plural)})

    # ---- eviction -----------------------------------------------------------------------------------------------
    def evict(self, request: Request) -> Response:
        route = request.route
        body = request.body
        if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction":
            raise errors.bad_request("the body must be a policy/v1 Eviction")
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != route.name:
            raise errors.bad_request(f"name in URL does not match name in Eviction object ({body_name})")
        preconditions = (body.get("deleteOptions") or {}).get("preconditions") or {}
        with self.store.lock:
            pod = self._existing(route).obj
            self._check_preconditions(route, pod, preconditions)
            pdbs = self.store.objects(PDBS, route.namespace)
            if pdbs:
                check_eviction(pod, pdbs, self.store.objects(PODS, route.namespace),
                               self.store.objects(DEPLOYMENTS, route.namespace))
            if not request.dry_run:
                self.store.remove(PODS, route.namespace, route.name)
        return 201, dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
