"""Where moto differs from AWS in a way costguard's deploy meets, corrected to what AWS does (and cited).

- API Gateway ImportRestApi: moto reads `info.description` unconditionally and answers 500 without it, while in
  OpenAPI/Swagger 2.0 `info.description` is optional (https://swagger.io/specification/v2/#info-object: only
  `title` and `version` are required) and API Gateway imports such a document
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/import-edge-optimized-api.html). Chalice's
  generated swagger has no description, so `chalice deploy` of an app with a route fails on moto alone.
- API Gateway ImportRestApi/PutRestApi: moto refuses Swagger 2.0 ("Only OpenAPI 3.x.x are currently supported");
  API Gateway imports both Swagger 2.0 and OpenAPI 3.0 definitions
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api.html). Chalice generates
  Swagger 2.0. The parts moto reads (`paths` → methods → `x-amazon-apigateway-integration`) have the same shape in
  both, so a Swagger 2.0 document is handed to moto's reader as it is, minus the version marker.
"""
from __future__ import annotations

import functools


def import_apis_as_aws_does() -> None:
    """Patch moto's (in-process) API Gateway backend once: Swagger 2.0, and no `info.description`, import as on AWS."""
    from moto.apigateway.models import APIGatewayBackend

    original_import, original_put = APIGatewayBackend.import_rest_api, APIGatewayBackend.put_rest_api
    if getattr(original_import, "costguard_fixed", False):
        return

    @functools.wraps(original_import)
    def import_rest_api(self, api_doc, fail_on_warnings):
        info = api_doc.setdefault("info", {})
        info.setdefault("description", "")
        return original_import(self, api_doc, fail_on_warnings)

    @functools.wraps(original_put)
    def put_rest_api(self, function_id, api_doc, fail_on_warnings, *args, **kwargs):
        if api_doc.get("swagger", "").startswith("2."):
            api_doc = {key: value for key, value in api_doc.items() if key != "swagger"}
            api_doc["openapi"] = "3.0.1"
            fail_on_warnings = False  # moto validates against OpenAPI 3 only
        return original_put(self, function_id, api_doc, fail_on_warnings, *args, **kwargs)

    import_rest_api.costguard_fixed = True
    APIGatewayBackend.import_rest_api = import_rest_api
    APIGatewayBackend.put_rest_api = put_rest_api
