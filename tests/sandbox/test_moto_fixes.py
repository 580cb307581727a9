"""The sandbox's moto behaves as AWS where costguard's deploy meets it (sandbox/moto_fixes.py)."""
import json

from sandbox.aws import FakeAws


def test_an_openapi_document_without_info_description_imports_as_on_aws():
    swagger = {"swagger": "2.0", "info": {"version": "1.0", "title": "costguard"},
               "paths": {"/slack/actions": {"post": {"responses": {"200": {"description": "200 response"}}}}}}
    with FakeAws() as aws:
        api = aws.client("apigateway").import_rest_api(body=json.dumps(swagger))
        assert api["name"] == "costguard"
        resources = aws.client("apigateway").get_resources(restApiId=api["id"])["items"]
        assert "/slack/actions" in {resource["path"] for resource in resources}
