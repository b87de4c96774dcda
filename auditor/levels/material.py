"""What makes an approval stale: the changes to a system that the law names (NĐ 331/2026 Điều 10.2.b–c: function,
scope, users and data subjects, kinds of information, technology, integration, hosting), as fields of its
declaration. The fields are data (``params.material`` of ``level.approval_current`` in profiles/obligations.yaml);
any other edit — a contact's e-mail, a description, a name — leaves the approval current.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# facts, components, hosts, endpoints, optionally with one field of each list item ("hosts.address")
PATH = re.compile(r"(facts|components|hosts|endpoints)(\.[a-z_]+)?")


@dataclass(frozen=True)
class Change:
    field: str
    approved: Any  # None: not declared then
    now: Any  # None: not declared now

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "approved": self.approved, "now": self.now}


def _item_key(item: dict[str, Any]) -> str:
    if "id" in item:
        return str(item["id"])
    return f"{item.get('host')}:{item.get('port')}"  # an endpoint


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k in sorted(value):
            _flatten(f"{prefix}.{k}", value[k], out)
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
        for item in value:
            _flatten(f"{prefix}[{_item_key(item)}]", {k: v for k, v in item.items() if k not in ("id",)}, out)
    elif isinstance(value, list):
        out[prefix] = sorted(value, key=str)  # a set of kinds: the order was never meaningful
    elif value is not None:
        out[prefix] = value


def material_view(declared: dict[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """The material fields of a system's declaration (as ``model_dump(mode="json")`` gives it), flattened to
    ``facts.personal_data_subjects.basic`` or ``hosts[web].address``."""
    out: dict[str, Any] = {}
    for spec in paths:
        head, _dot, field = spec.partition(".")
        value = declared.get(head)
        if field and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    key = _item_key(item)
                    out[f"{head}[{key}]"] = True  # the item exists: adding or removing one is a change
                    _flatten(f"{head}[{key}].{field}", item.get(field), out)
        else:
            _flatten(head, value, out)
    return out


def material_changes(approved: dict[str, Any], current: dict[str, Any], paths: Sequence[str]) -> list[Change]:
    before, after = material_view(approved, paths), material_view(current, paths)
    return [Change(k, before.get(k), after.get(k)) for k in sorted(before.keys() | after.keys())
            if before.get(k) != after.get(k)]
