"""Load inventory.yaml (and inventory.d/*.yaml): safe YAML, then the models and the whole-inventory checks, all
reported together."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from auditor import clock
from auditor.i18n import _
from auditor.inventory import crossref, parsed_cache, parts
from auditor.inventory.messages import problems_from
from auditor.inventory.model import Inventory
from auditor.problems import InputError, Problem, display_path
from auditor.yamlsafe import LoadedYaml


@dataclass(frozen=True)
class LoadedInventory:
    inventory: Inventory
    path: Path  # inventory.yaml
    sha256: str  # of inventory.yaml's bytes, or of every file's name and digest when inventory.d/ has files
    files: tuple[Path, ...] = ()


def load_inventory(path: Path, *, today: dt.date | None = None) -> LoadedInventory:
    """Validate ``path`` (and the files of inventory.d/ beside it) fully; raise :class:`InputError` listing every
    problem found. The YAML of a workspace's inventory is parsed once per content (parsed_cache); the checks run
    every time."""
    day = today or clock.today()
    raw = parts.read_files(path)
    digest = raw.sha256
    kept = parsed_cache.read(path.parent, digest) if not raw.problems else None
    if kept is not None:
        inventory = _checked(path, LoadedYaml(file=display_path(path), data=kept, sha256=digest), day)
        if isinstance(inventory, Inventory):
            return LoadedInventory(inventory, path, digest, raw.paths)
        # a problem found in kept data (a file named in it is gone, a date has passed): parse again to locate it
    loaded, joining = parts.parse(raw)
    checked = _checked(path, loaded, day, joining)
    if not isinstance(checked, Inventory):
        raise InputError(checked)
    parsed_cache.keep(path.parent, digest, loaded.data)
    return LoadedInventory(checked, path, digest, raw.paths)


def _checked(path: Path, loaded: LoadedYaml, today: dt.date,
             joining: list[Problem] | None = None) -> Inventory | list[Problem]:
    """The inventory, or every problem found in it (with those of joining its files)."""
    if not isinstance(loaded.data, dict):
        return [loaded.problem((), _("the inventory must be a mapping with 'organisations' and 'systems'"))]
    problems: list[Problem] = list(joining or [])
    problems += crossref.check_references(loaded.data, loaded, path.parent)
    inventory: Inventory | None = None
    try:
        inventory = Inventory.model_validate(loaded.data)
    except ValidationError as exc:
        problems += problems_from(exc, loaded, Inventory)
    if inventory is not None:
        problems += crossref.check_dates(inventory, loaded, today)
    return inventory if inventory is not None and not problems else problems
