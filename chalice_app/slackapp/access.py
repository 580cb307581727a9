"""Who may act from Slack (pure): an allow-list of Slack user ids and user-group ids, optionally per namespace.

The document lives in SSM (`/costguard/<stage>/slack-allow-list`, created empty by `costguard bootstrap`):

    {"users": ["U012ABCDEF"], "usergroups": ["S0PLATFORM"],
     "namespaces": {"openfaas-fn": {"users": ["U034GHIJKL"], "usergroups": []}}}

Top-level entries may act on every configured namespace; a namespace's entries only on that namespace. An empty
or missing document allows nobody. User-group membership is looked up by the caller (Slack's
usergroups.users.list) and passed in, so this module stays pure.
"""
from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalice_app.errors import CostguardError

_ID = re.compile(r"^[A-Z0-9]{2,32}$")


class AllowListError(CostguardError):
    """The allow-list document cannot be understood: nobody is allowed until it is fixed."""


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()

    @field_validator("users", "usergroups")
    @classmethod
    def _ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [value for value in values if not _ID.match(value)]
        if bad:
            raise ValueError(f"{len(bad)} entries are not Slack ids (like U012ABCDEF or S0PLATFORM)")
        return values


class AllowList(Grant):
    namespaces: dict[str, Grant] = Field(default_factory=dict)

    def groups(self) -> set[str]:
        """Every user group named anywhere (the caller resolves membership only for these)."""
        return set(self.usergroups) | {group for grant in self.namespaces.values() for group in grant.usergroups}


def parse_allow_list(text: str | None, source: str) -> AllowList:
    if not text or not text.strip():
        return AllowList()
    try:
        return AllowList.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else {"loc": (), "msg": str(error)}
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise AllowListError(f"{source}: {where}: {first['msg']}") from None


def _granted(grant: Grant, user_id: str, user_groups: set[str]) -> bool:
    return user_id in grant.users or bool(user_groups & set(grant.usergroups))


def may_act(allow: AllowList, user_id: str, user_groups: set[str], namespace: str | None) -> bool:
    """May this user act on `namespace` (None: on nothing in particular, e.g. `status`: any grant will do)?"""
    if _granted(allow, user_id, user_groups):
        return True
    if namespace is None:
        return any(_granted(grant, user_id, user_groups) for grant in allow.namespaces.values())
    grant = allow.namespaces.get(namespace)
    return grant is not None and _granted(grant, user_id, user_groups)
