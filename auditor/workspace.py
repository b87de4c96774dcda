"""The workspace: a folder with inventory.yaml, the content folders, and the store under .auditor/."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from auditor import safeio
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path

INVENTORY = "inventory.yaml"
CONTENT_DIRS = ("checks", "profiles", "reports")
SKELETON = Path(__file__).parent / "skeleton"
ENV_WORKSPACE = "AUDITOR_WORKSPACE"


def content_root() -> Path:
    """Where the default checks/, profiles/ and reports/ are: inside the wheel, or the source tree."""
    packaged = Path(__file__).parent / "_content"
    if (packaged / "checks").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def content_file(folder: Path, relative: str) -> Path:
    """A content file: from ``folder`` (a workspace's own copy) when it has it, else the shipped default.

    A workspace made by an earlier version keeps working when a newer version adds a rule file.
    """
    own = folder / relative
    if own.exists():
        return own
    default = content_root() / folder.name / relative
    return default if default.exists() else own


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def inventory_path(self) -> Path:
        return self.root / INVENTORY

    @property
    def state_dir(self) -> Path:
        return self.root / ".auditor"

    def content(self, name: str) -> Path:
        """A content folder: the workspace's own copy, else the defaults shipped with the auditor."""
        own = self.root / name
        return own if own.is_dir() else content_root() / name


def find_workspace(explicit: Path | None) -> Workspace:
    root = explicit or (Path(os.environ[ENV_WORKSPACE]) if os.environ.get(ENV_WORKSPACE) else Path.cwd())
    root = root.resolve()
    if not (root / INVENTORY).is_file():
        raise InputError([Problem(display_path(root / INVENTORY), 1, 1, "",
                                  _("no workspace here: {file} is missing (create one with 'auditor init DIR')")
                                  .format(file=INVENTORY))])
    return Workspace(root)


def init_workspace(target: Path, *, inventory_text: str | None = None) -> list[Path]:
    """Create a workspace in ``target``; refuses to overwrite an existing inventory."""
    target.mkdir(parents=True, exist_ok=True)
    inv = target / INVENTORY
    if inv.exists():
        raise InputError([Problem(display_path(inv), 1, 1, "", _("a workspace already exists here; nothing was changed"))])
    written: list[Path] = []
    src = content_root()
    for name in CONTENT_DIRS:
        dest = target / name
        if not dest.exists():
            shutil.copytree(src / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
            written.append(dest)
    text = inventory_text if inventory_text is not None else (SKELETON / INVENTORY).read_text(encoding="utf-8")
    safeio.write_text(inv, text)
    written.append(inv)
    gitignore = target / ".gitignore"
    if not gitignore.exists() and not gitignore.is_symlink():
        safeio.write_text(gitignore, ".auditor/\n")
    return written
