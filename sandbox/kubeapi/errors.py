"""Kubernetes `Status` error responses, raised as `ApiError` anywhere below the HTTP layer."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API server answers with a `Status` object (code, reason, message, details)."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def details(name: str | None, group: str, kind: str, causes: list[dict] | None = None) -> dict[str, Any]:
    """`Status.details`, leaving out what is empty (the core group, a collection's name)."""
    fields = {"name": name, "group": group, "kind": kind, "causes": causes}
    return {key: value for key, value in fields.items() if value}


def qualified(plural: str, group: str) -> str:
    """`deployments.apps`, or just `pods` for the core group, as Kubernetes names resources in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found',
                    details(name, group, plural))


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists',
                    details(name, group, plural))


def conflict(plural: str, group: str, name: str) -> ApiError:
    message = (f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": the object has been '
               f"modified; please apply your changes to the latest version and try again")
    return ApiError(409, "Conflict", message, details(name, group, plural))


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]] | list[tuple[str, str, str]]
            ) -> ApiError:
    """422 naming each offending field: `NodePool.karpenter.sh "x" is invalid: spec.limits.cpu: ...`. A cause is
    (field, message) or (field, message, reason); the reason defaults to FieldValueInvalid."""
    qualified_kind = f"{kind}.{group}" if group else kind
    triples = [(cause[0], cause[1], cause[2] if len(cause) > 2 else "FieldValueInvalid") for cause in causes]
    text = "; ".join(f"{field}: {message}" for field, message, _ in triples)
    if len(triples) > 1:
        text = "[" + ", ".join(f"{field}: {message}" for field, message, _ in triples) + "]"
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}',
                    details(name, group, kind, [{"reason": reason, "message": message, "field": field}
                                                for field, message, reason in triples]))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: "
                    f"{', '.join(accepted)} (got {content_type or 'none'})")


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource "
                                             f"({method})")


def path_not_found(path: str) -> ApiError:
    return ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
