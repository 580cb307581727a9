"""ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1) enforced as kube-apiserver enforces them, with the
CEL library of the CRD rules (cel.py, cel-python).

Upstream: kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating/ (dispatcher.go,
validator.go, policy_decision.go), .../plugin/cel/condition.go, .../plugin/webhook/matchconditions/matcher.go,
.../plugin/webhook/predicates/rules/rules.go, and the kubernetes/website page "Validating Admission Policy"
(content/en/docs/reference/access-authn-authz/validating-admission-policy.md). What is modelled:
- policies and bindings are served objects (resources.py), read from the store on every write, so one created
  through the API applies to the next request (kube-apiserver's informers take a moment; nothing here depends on it);
- a policy applies when `spec.matchConstraints` matches (resourceRules / excludeResourceRules: apiGroups,
  apiVersions, operations, resources with `*`, `<res>/<sub>`, `*/<sub>`, `*/*`, scope, resourceNames;
  namespaceSelector; objectSelector on the object or the old object); each binding naming it, whose own
  `matchResources` (if any) also matches, then evaluates it;
- `matchConditions` first: any false skips the policy, errors go by `failurePolicy` (default Fail);
- `variables` in order, then every `validations[].expression` over `object`, `oldObject` (null on CREATE / DELETE),
  `request` (AdmissionRequest: kind, resource, subResource, name, namespace, operation, userInfo, dryRun, options),
  `namespaceObject` and `variables`; not `params` (a policy with `paramKind` is a configuration error: no
  parameter resources are served) nor `authorizer`;
- a false validation is a denial with `messageExpression` (non-empty, one line), else `message`, else
  `failed expression: <expression>`, and `reason` (default Invalid); a runtime error is
  `expression '<expression>' resulted in error: <error>` (the error's text is cel-python's), denied under
  failurePolicy Fail and admitted under Ignore;
- binding `validationActions`: Deny refuses; Warn and Audit do not (no warning headers or audit log are served);
- the first denial answers `<resource>.<group> "<name>" is forbidden: ValidatingAdmissionPolicy '<policy>' with
  binding '<binding>' denied request: <message>`, with code 403 for reason Forbidden, 401 Unauthorized,
  413 RequestEntityTooLarge, 422 otherwise, and that message as the one cause.
Requests are admitted on create, update and patch (of the object and its status and scale subresources: the Scale
is `object` there) and delete, after the object's own validation, as kube-apiserver's registry calls the validating
admission hook after the strategy's validation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import celpy
import yaml
from celpy import celtypes

from sandbox.kubeapi import errors
from sandbox.kubeapi.auth import Identity
from sandbox.kubeapi.cel import UnsupportedRule, compile_expression
from sandbox.kubeapi.resources import NAMESPACES, RESOURCES, ResourceType
from sandbox.kubeapi.selectors import selector_from_label_selector
from sandbox.kubeapi.store import Store

GROUP = "admissionregistration.k8s.io"
POLICIES = next(r for r in RESOURCES if (r.group, r.plural) == (GROUP, "validatingadmissionpolicies"))
BINDINGS = next(r for r in RESOURCES if (r.group, r.plural) == (GROUP, "validatingadmissionpolicybindings"))
# kube-apiserver's authenticator adds this group to every authenticated user
# (k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go).
AUTHENTICATED = "system:authenticated"
_CODES = {"Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413, "Invalid": 422}
_VARIABLE = re.compile(r"\bvariables\.([A-Za-z_][A-Za-z0-9_]*)")
_COMPILED: dict[str, Any] = {}


@dataclass(frozen=True)
class Attributes:
    """One admission request, as admission.Attributes carries it."""

    operation: str  # CREATE, UPDATE or DELETE (a patch is an UPDATE)
    resource: ResourceType
    subresource: str
    name: str
    namespace: str
    obj: dict | None  # the new object (the Scale on the scale subresource); None on DELETE
    old: dict | None  # the stored object; None on CREATE
    identity: Identity
    dry_run: bool = False
    kind: tuple[str, str, str] | None = None  # (group, version, kind) when not the resource's own (Scale)

    def request(self) -> dict:
        """The CEL `request` variable: the AdmissionRequest without its objects (cel.CreateAdmissionRequest)."""
        group, version, kind = self.kind or (self.resource.group, self.resource.version, self.resource.kind)
        kind_of = {"group": group, "version": version, "kind": kind}
        resource = {"group": self.resource.group, "version": self.resource.version, "resource": self.resource.plural}
        options = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}[self.operation]
        groups = list(self.identity.groups)
        if AUTHENTICATED not in groups:
            groups.append(AUTHENTICATED)
        request = {"uid": "", "kind": kind_of, "resource": resource, "requestKind": kind_of,
                   "requestResource": resource, "name": self.name, "operation": self.operation,
                   "userInfo": {"username": self.identity.user, "groups": groups},
                   "dryRun": self.dry_run, "options": {"apiVersion": "meta.k8s.io/v1", "kind": options}}
        if self.subresource:
            request["subResource"] = request["requestSubResource"] = self.subresource
        if self.namespace:
            request["namespace"] = self.namespace
        return request

    @property
    def labelled(self) -> tuple[dict, ...]:
        return tuple(obj for obj in (self.obj, self.old) if isinstance(obj, dict))


# Kubernetes' CEL compares any value with null (cel-go's heterogeneous equality: `oldObject != null` is true on
# UPDATE, https://github.com/google/cel-spec/blob/master/doc/langdef.md#equality); cel-python answers `==` but
# raises on `!=` for maps and lists, so the admission variables are built from these.
class _Map(celtypes.MapType):
    def __ne__(self, other: Any) -> bool:
        return True if other is None else super().__ne__(other)

    __hash__ = None  # type: ignore[assignment]


class _List(celtypes.ListType):
    def __ne__(self, other: Any) -> bool:
        return True if other is None else super().__ne__(other)

    __hash__ = None  # type: ignore[assignment]


def to_cel(value: Any) -> Any:
    """JSON -> CEL values, as celpy.json_to_cel, with null comparisons Kubernetes' CEL allows."""
    if isinstance(value, dict):
        return _Map({celtypes.StringType(key): to_cel(item) for key, item in value.items()})
    if isinstance(value, list):
        return _List([to_cel(item) for item in value])
    return celpy.json_to_cel(value)


@dataclass(frozen=True)
class Decision:
    message: str
    reason: str = "Invalid"


@dataclass
class _Evaluation:
    activation: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)  # name -> CEL value or the exception it raised


def _program(text: str) -> Any:
    program = _COMPILED.get(text)
    if program is None:
        if len(_COMPILED) >= 4096:
            _COMPILED.clear()
        program = _COMPILED[text] = compile_expression(text)
    return program


def _evaluate(text: str, evaluation: _Evaluation) -> Any:
    """The expression's CEL value, or the exception it raised (a failed variable it names fails it too, as
    cel-go evaluates a variable lazily, on its first use)."""
    for name in _VARIABLE.findall(text):
        value = evaluation.variables.get(name)
        if isinstance(value, Exception):
            return value
    try:
        return _program(text).evaluate(evaluation.activation)
    except Exception as error:  # celpy's CELEvalError and friends: a runtime error of this expression
        return error


def _is_true(value: Any) -> bool:
    return isinstance(value, celtypes.BoolType) and bool(value)


def _error_text(text: str, error: Exception) -> str:
    detail = error.args[0] if error.args else error
    return f"expression '{text}' resulted in error: {detail}"


# --- matching (k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/rules/rules.go, generic/policy_matcher.go) --
def _listed(values: list | None, value: str) -> bool:
    values = values or []
    return "*" in values or value in values


def _resource_listed(patterns: list | None, resource: str, subresource: str) -> bool:
    for pattern in patterns or []:
        if pattern == "*/*":
            return True
        name, slash, sub = pattern.partition("/")
        if not slash:
            if (name == "*" or name == resource) and not subresource:
                return True
        elif (name == "*" or name == resource) and (sub == "*" or sub == subresource):
            return True
    return False


def _rule_matches(rule: dict, attributes: Attributes) -> bool:
    resource = attributes.resource
    scope = rule.get("scope") or "*"
    if scope == "Cluster" and resource.namespaced or scope == "Namespaced" and not resource.namespaced:
        return False
    names = rule.get("resourceNames") or []
    return (_listed(rule.get("operations"), attributes.operation) and _listed(rule.get("apiGroups"), resource.group)
            and _listed(rule.get("apiVersions"), resource.version)
            and _resource_listed(rule.get("resources"), resource.plural, attributes.subresource)
            and (not names or attributes.name in names))


def _resources_match(match: dict, attributes: Attributes, store: Store, rules_required: bool) -> bool:
    rules = match.get("resourceRules") or []
    if (rules or rules_required) and not any(_rule_matches(rule, attributes) for rule in rules):
        return False
    if any(_rule_matches(rule, attributes) for rule in match.get("excludeResourceRules") or []):
        return False
    if attributes.namespace and match.get("namespaceSelector"):  # cluster-scoped objects are never excluded
        namespace = store.read(NAMESPACES, None, attributes.namespace)
        if not selector_from_label_selector(match["namespaceSelector"])(namespace.obj if namespace else {}):
            return False
    if match.get("objectSelector"):
        selects = selector_from_label_selector(match["objectSelector"])
        if not any(selects(obj) for obj in attributes.labelled):
            return False
    return True


# --- evaluation (validating/validator.go, dispatcher.go) ------------------------------------------------------------
class PolicyAdmission:
    def __init__(self, store: Store):
        self.store = store

    def admit(self, attributes: Attributes) -> None:
        """Raise the ApiError kube-apiserver answers when a bound policy denies the request."""
        policies = self.store.objects(POLICIES, None)
        if not policies:
            return
        bindings = self.store.objects(BINDINGS, None)
        denied: list[tuple[dict, dict | None, Decision]] = []
        for policy in policies:
            spec = policy.get("spec") or {}
            if not _resources_match(spec.get("matchConstraints") or {}, attributes, self.store, True):
                continue
            fail = (spec.get("failurePolicy") or "Fail") != "Ignore"
            configuration_error = _configuration_error(spec)
            if configuration_error:
                if fail:
                    denied.append((policy, None, Decision(f"failed to configure policy: {configuration_error}")))
                continue
            for binding in bindings:
                binding_spec = binding.get("spec") or {}
                if binding_spec.get("policyName") != policy["metadata"]["name"]:
                    continue
                if not _resources_match(binding_spec.get("matchResources") or {}, attributes, self.store, False):
                    continue
                actions = binding_spec.get("validationActions") or []
                if "Deny" not in actions:
                    continue  # Warn / Audit: not refused
                denied.extend((policy, binding, decision) for decision in self._validate(spec, attributes, fail))
        if denied:
            raise _denial(attributes, *denied[0])

    def _validate(self, spec: dict, attributes: Attributes, fail: bool) -> list[Decision]:
        activation = {"object": to_cel(attributes.obj), "oldObject": to_cel(attributes.old),
                      "request": to_cel(attributes.request())}
        if attributes.namespace:
            namespace = self.store.read(NAMESPACES, None, attributes.namespace)
            activation["namespaceObject"] = to_cel(namespace.obj if namespace else None)
        evaluation = _Evaluation(activation)
        errors_seen = []
        for condition in spec.get("matchConditions") or []:
            result = _evaluate(condition["expression"], evaluation)
            if isinstance(result, Exception):
                errors_seen.append(_error_text(condition["expression"], result))
            elif not _is_true(result):
                return []  # one false condition: the policy does not apply
        if errors_seen:
            return [Decision("; ".join(errors_seen))] if fail else []
        for variable in spec.get("variables") or []:
            evaluation.variables[variable["name"]] = _evaluate(variable["expression"], evaluation)
            activation["variables"] = _Map({
                celtypes.StringType(name): value for name, value in evaluation.variables.items()
                if not isinstance(value, Exception)})
        decisions = []
        for validation in spec.get("validations") or []:
            text = validation["expression"]
            result = _evaluate(text, evaluation)
            if isinstance(result, Exception):
                if fail:
                    decisions.append(Decision(_error_text(text, result)))
            elif not _is_true(result):
                decisions.append(Decision(_message(validation, evaluation), validation.get("reason") or "Invalid"))
        return decisions


def _expressions(spec: dict):
    """(field path, CEL text) of every expression of a policy's spec."""
    for section in ("matchConditions", "variables", "validations"):
        items = spec.get(section) or []
        for index, item in enumerate(items if isinstance(items, list) else []):
            for key in ("expression", "messageExpression"):
                text = item.get(key) if isinstance(item, dict) else None
                if isinstance(text, str) and text:
                    yield f"spec.{section}[{index}].{key}", text


def _compile_errors(spec: dict) -> list[tuple[str, str, str]]:
    """(field, expression, error) for each expression that does not compile."""
    found = []
    for path, text in _expressions(spec):
        try:
            _program(text)
        except UnsupportedRule as error:
            found.append((path, text, str(error)))
    return found


def _configuration_error(spec: dict) -> str | None:
    if spec.get("paramKind"):
        return "the sandbox API server serves no parameter resources (spec.paramKind)"
    problems = _compile_errors(spec)
    return problems[0][2] if problems else None


def _message(validation: dict, evaluation: _Evaluation) -> str:
    if validation.get("messageExpression"):
        text = _evaluate(validation["messageExpression"], evaluation)
        if isinstance(text, str) and text.strip() and "\n" not in text.strip() and len(text.strip()) <= 5120:
            return text.strip()
    if (validation.get("message") or "").strip():
        return validation["message"].strip()
    return f"failed expression: {validation['expression'].strip()}"


def _denial(attributes: Attributes, policy: dict, binding: dict | None, decision: Decision) -> errors.ApiError:
    """admission.NewForbidden's wording, with the code and reason the decision's reason gives (dispatcher.go)."""
    policy_name = policy["metadata"]["name"]
    if binding is not None:
        message = (f"ValidatingAdmissionPolicy '{policy_name}' with binding '{binding['metadata']['name']}' "
                   f"denied request: {decision.message}")
    else:
        message = f"ValidatingAdmissionPolicy '{policy_name}' denied request: {decision.message}"
    # extractResourceName (staging/src/k8s.io/apiserver/pkg/admission/errors.go): the request's name, else the
    # object's name or generateName, else "Unknown".
    metadata = (attributes.obj or {}).get("metadata") or {}
    name = attributes.name or metadata.get("name") or metadata.get("generateName") or "Unknown"
    resource = attributes.resource
    details = errors.details(name, resource.group, resource.plural, [{"message": message}])
    return errors.ApiError(_CODES.get(decision.reason, 422), decision.reason,
                           f'{errors.qualified(resource.plural, resource.group)} "{name}" is forbidden: {message}',
                           details)


def compile_problems(obj: dict) -> list[tuple[str, str]]:
    """(field, message) for what kube-apiserver refuses in a policy being created or updated (422; kubernetes/
    kubernetes pkg/apis/admissionregistration/validation/validation.go): a missing matchConstraints.resourceRules,
    no validations, an item without its expression (or a condition / variable without its name), and every
    expression that does not compile."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    problems: list[tuple[str, str]] = []
    if not ((spec.get("matchConstraints") or {}).get("resourceRules")):
        problems.append(("spec.matchConstraints.resourceRules", "Required value"))
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        problems.append(("spec.validations", "Required value: validations or auditAnnotations must contain at "
                                             "least one item"))
    for section, named in (("matchConditions", True), ("variables", True), ("validations", False)):
        for index, item in enumerate(spec.get(section) or []):
            item = item if isinstance(item, dict) else {}
            if not item.get("expression"):
                problems.append((f"spec.{section}[{index}].expression", "Required value"))
            if named and not item.get("name"):
                problems.append((f"spec.{section}[{index}].name", "Required value"))
    return problems + [(path, f'Invalid value: "{text}": compilation failed: {error}')
                       for path, text, error in _compile_errors(spec)]


def validate_policy(resource: ResourceType, obj: dict) -> None:
    """422 for a ValidatingAdmissionPolicy kube-apiserver would refuse (compile_problems), or a binding without its
    policyName or validationActions; other objects pass."""
    problems: list[tuple[str, str]] = []
    if resource is POLICIES:
        problems = compile_problems(obj)
    elif resource is BINDINGS:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        problems = [(f"spec.{key}", "Required value") for key in ("policyName", "validationActions")
                    if not spec.get(key)]
    if problems:
        raise errors.invalid(resource.kind, resource.group, (obj.get("metadata") or {}).get("name", ""),
                                 problems)


def load_policy_file(path) -> list[dict]:
    """The policies and bindings of a manifest (policies/kubernetes-admission.yaml), to seed into the store."""
    with open(path, encoding="utf-8") as handle:
        documents = [document for document in yaml.safe_load_all(handle) if document]
    kinds = {POLICIES.kind, BINDINGS.kind}
    strays = [document.get("kind") for document in documents if document.get("kind") not in kinds]
    if strays:
        raise ValueError(f"{path}: only {sorted(kinds)} belong here, found {strays}")
    return documents
