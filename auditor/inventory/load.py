"""Load inventory.yaml: safe YAML, then the models and the whole-inventory checks, all reported together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from auditor import clock
from auditor.i18n import _
from auditor.inventory import crossref
from auditor.inventory.messages import problems_from
from auditor.inventory.model import Inventory
from auditor.problems import InputError, Problem
from auditor.yamlsafe import load_yaml


@dataclass(frozen=True)
class LoadedInventory:
    inventory: Inventory
    path: Path
    sha256: str


def load_inventory(path: Path, *, today: dt.date | None = None) -> LoadedInventory:
    """Validate ``path`` fully; raise :class:`InputError` listing every problem found."""
    loaded = load_yaml(path, within=path.parent)
    if not isinstance(loaded.data, dict):
        raise InputError([loaded.problem((), _("the inventory must be a mapping with 'organisations' and 'systems'"))])
    problems: list[Problem] = crossref.check_references(loaded.data, loaded, path.parent)
    inventory: Inventory | None = None
    try:
        inventory = Inventory.model_validate(loaded.data)
    except ValidationError as exc:
        problems += problems_from(exc, loaded, Inventory)
    if inventory is not None:
        problems += crossref.check_dates(inventory, loaded, today or clock.today())
    if problems or inventory is None:
        raise InputError(problems)
    return LoadedInventory(inventory, path, loaded.sha256)
