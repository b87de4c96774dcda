"""An inventory written as one file, or split: inventory.yaml (meta, organisations, perhaps systems) and
inventory.d/*.yaml (more organisations and systems: one file per agency, say), read as one document.

The files are joined in order (inventory.yaml, then inventory.d/ by name) into the lists the model validates, and
every problem found in the joined document is reported at the file, line and column where its value was written,
with the field as that file numbers it (``systems[3]`` is the fourth system of that file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import safeio
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path
from auditor.yamlsafe import LoadedYaml, Path_, Position, load_yaml_bytes

PARTS_DIR = "inventory.d"
LISTS = ("organisations", "systems")
# a file of 10,000 systems of one host and one endpoint each, in block style, is 6.4 MB (read in 2 s, 220 MB); the
# YAML reader stops a file at 1,500,000 values whatever its size, and the total bounds the workspace
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Span:
    """Where a file's items stand in a joined list: from ``start``, ``count`` of them."""

    start: int
    count: int


@dataclass
class Part:
    loaded: LoadedYaml
    spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class JoinedYaml(LoadedYaml):
    """The joined document; positions and problems are those of the file each value came from."""

    parts: list[Part] = field(default_factory=list)

    def _source(self, path: Path_) -> tuple[LoadedYaml, Path_]:
        if len(path) >= 2 and path[0] in LISTS and isinstance(path[1], int):
            for part in self.parts:
                span = part.spans.get(str(path[0]))
                if span is not None and span.start <= path[1] < span.start + span.count:
                    return part.loaded, (path[0], path[1] - span.start, *path[2:])
        return self.parts[0].loaded, path

    def position(self, path: Path_, *, key: bool = False) -> Position:
        loaded, local = self._source(path)
        return loaded.position(local, key=key)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        loaded, local = self._source(path)
        return loaded.problem(local, message, key=key)


@dataclass(frozen=True)
class RawFiles:
    """The bytes of every file of an inventory, read before anything is parsed."""

    files: tuple[tuple[Path, bytes], ...]
    problems: tuple[Problem, ...] = ()  # files that could not be read (they are named with the others' problems)

    @property
    def sha256(self) -> str:
        """Of the one file's bytes when there is one file (as before inventory.d/ existed); else of every file's
        name and digest in order."""
        if len(self.files) == 1:
            return hashlib.sha256(self.files[0][1]).hexdigest()
        h = hashlib.sha256()
        for path, raw in self.files:
            h.update(f"{path.name}\0{hashlib.sha256(raw).hexdigest()}\n".encode())
        return h.hexdigest()

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(p for p, _raw in self.files)


def part_files(main: Path) -> list[Path]:
    folder = main.parent / PARTS_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def read_files(main: Path) -> RawFiles:
    """inventory.yaml and inventory.d/*.yaml, each a regular file inside the workspace, within the limits; those
    that are not are named in ``problems``."""
    files: list[tuple[Path, bytes]] = []
    problems: list[Problem] = []
    total = 0
    for path in [main, *part_files(main)]:
        try:
            raw = safeio.read_bytes(path, max_bytes=MAX_FILE_BYTES, within=main.parent)
        except InputError as exc:
            problems += exc.problems
            continue
        total += len(raw)
        if total > MAX_TOTAL_BYTES:
            problems.append(Problem(display_path(path), 1, 1, "", _(
                "the inventory's files hold more than {limit} bytes together; the rest is not read").format(
                limit=MAX_TOTAL_BYTES)))
            break
        files.append((path, raw))
    return RawFiles(tuple(files), tuple(problems))


def parse(raw: RawFiles) -> tuple[LoadedYaml, list[Problem]]:
    """The joined document and the problems of joining it; raises :class:`InputError` when a file could not be
    read or is not YAML at all (every file is parsed, so every such file is named in one run)."""
    loaded: list[LoadedYaml] = []
    problems: list[Problem] = list(raw.problems)
    for path, data in raw.files:
        try:
            loaded.append(load_yaml_bytes(data, display_path(path)))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    if len(loaded) == 1:
        return loaded[0], []
    return _join(loaded, raw.sha256)


def _join(loaded: list[LoadedYaml], digest: str) -> tuple[LoadedYaml, list[Problem]]:
    main = loaded[0]
    problems: list[Problem] = []
    data: Any = main.data
    if not isinstance(data, dict):
        return main, []  # the model's own check says what the main file must be
    data = dict(data)
    parts = [Part(main, {name: Span(0, len(data[name])) for name in LISTS if isinstance(data.get(name), list)})]
    for doc in loaded[1:]:
        content = doc.data if doc.data is not None else {}
        if not isinstance(content, dict):
            problems.append(doc.problem((), _("a file in {folder}/ is a mapping with 'organisations', 'systems' "
                                              "or both").format(folder=PARTS_DIR)))
            continue
        part = Part(doc)
        for key, value in content.items():
            if key == "version":
                if value != 1:
                    problems.append(doc.problem(("version",), _("must be 1, as in inventory.yaml")))
            elif key not in LISTS:
                problems.append(doc.problem((key,), _("{key!r} belongs in inventory.yaml; a file in {folder}/ holds "
                                                      "only 'organisations' and 'systems'").format(
                    key=key, folder=PARTS_DIR), key=True))
            elif value is None:
                continue
            elif not isinstance(value, list):
                problems.append(doc.problem((key,), _("must be a list")))
            elif data.get(key) is not None and not isinstance(data.get(key), list):
                continue  # inventory.yaml's own value is wrong; the model says so there
            else:
                if data.get(key) is None or data[key] is main.data.get(key):
                    data[key] = list(data.get(key) or [])  # a copy: the main file's own list stays as parsed
                part.spans[key] = Span(len(data[key]), len(value))
                data[key].extend(value)
        parts.append(part)
    return JoinedYaml(file=main.file, data=data, sha256=digest, parts=parts), problems
