"""What each Lambda's code may call in AWS, found by reading the code: the IAM tests hold every role to it.

Each Lambda is one function of app.py; its code is every chalice_app module it imports (at module level or inside
functions, transitively). Its AWS calls are the botocore operations of the services it makes clients/resources of
(`client("sqs")`, `resource("dynamodb")`) whose snake_case names it calls (`.delete_message_batch(`), plus the
paginators it asks for. The scan is per module, so a module's calls count for every Lambda that imports it.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import botocore.session
from botocore import xform_name

from chalice_app import naming

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "chalice_app"
SERVICE = re.compile(r"""\.(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
CALL = re.compile(r"\.(\w+)\(")
PAGINATOR = re.compile(r"""get_paginator\(\s*["'](\w+)["']""")
# IAM authorises these operations through other actions (Service Authorization Reference: SQS batch actions use
# the single-message action; DynamoDB authorises TransactWriteItems per item action).
AUTHORISED_AS = {
    "sqs:DeleteMessageBatch": {"sqs:DeleteMessage"},
    "sqs:ChangeMessageVisibilityBatch": {"sqs:ChangeMessageVisibility"},
    "sqs:SendMessageBatch": {"sqs:SendMessage"},
    "dynamodb:TransactWriteItems": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    "dynamodb:TransactGetItems": {"dynamodb:GetItem"},
    # presigned for the EKS token and never sent by the function; GetCallerIdentity needs no permission
    "sts:GetCallerIdentity": set(),
}
# What the platform does with the function's role, not its code: the Lambda runtime writes the function's logs,
# active tracing sends segments (AWS Lambda developer guide, "Lambda execution role", "Using AWS Lambda with
# AWS X-Ray"), and an SQS event source polls and deletes with it ("Using Lambda with Amazon SQS": execution role
# needs sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes).
EVERY_FUNCTION = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                  "xray:PutTelemetryRecords"}
SQS_EVENT_SOURCE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# SecureString parameters are decrypted by SSM with the caller's kms:Decrypt (ssm:GetParameter WithDecryption).
IMPLIED = {"ssm:GetParameter": {"kms:Decrypt"}}


def module_file(name: str) -> Path | None:
    base = ROOT / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str) -> set[str]:
    path = module_file(name)
    assert path is not None, name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return {module for module in found if module.split(".")[0] == PACKAGE and module_file(module)}


def code_of(*roots: str) -> set[str]:
    """Every chalice_app module the roots import, with the packages whose __init__ runs on the way."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen or module_file(module) is None:  # done, or a namespace package (no __init__.py)
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += _imports(module)
    return seen


@lru_cache(maxsize=None)
def _operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(operation): operation for operation in model.operation_names}


def called_operations(modules: set[str]) -> set[str]:
    """`service:Operation` for every boto3 call the modules make."""
    texts = [module_file(module).read_text() for module in modules]
    services = {service for text in texts for service in SERVICE.findall(text)}
    names = {name for text in texts for name in (*CALL.findall(text), *PAGINATOR.findall(text))}
    return {f"{service}:{_operations(service)[name]}" for service in services for name in names
            if name in _operations(service)}


def needed_actions(modules: set[str], sqs_event_source: bool) -> set[str]:
    actions = set(EVERY_FUNCTION) | (SQS_EVENT_SOURCE if sqs_event_source else set())
    for operation in called_operations(modules):
        authorised = AUTHORISED_AS.get(operation, {operation})
        actions |= authorised
        for action in authorised:
            actions |= IMPLIED.get(action, set())
    return actions


def lambdas_of_app(app_file: Path = ROOT / "app.py") -> dict[str, tuple[set[str], bool]]:
    """{Lambda: (the chalice_app modules its handler imports, whether an SQS queue feeds it)} from app.py's
    decorated functions: `name=` of the decorator, or Chalice's `api_handler` for routes."""
    lambdas: dict[str, tuple[set[str], bool]] = {}
    for node in ast.parse(app_file.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            kind = decorator.func.attr
            keywords = {keyword.arg: keyword.value for keyword in decorator.keywords}
            if kind == "route":
                name = naming.API_HANDLER
            elif isinstance(keywords.get("name"), ast.Constant):
                name = keywords["name"].value
            else:
                continue
            roots = {f"{statement.module}.{alias.name}" if module_file(f"{statement.module}.{alias.name}")
                     else statement.module for statement in ast.walk(node)
                     if isinstance(statement, ast.ImportFrom) and statement.module
                     for alias in statement.names}
            modules, fed = lambdas.get(name, (set(), False))
            lambdas[name] = (modules | code_of(*roots), fed or kind == "on_sqs_message")
    return lambdas
