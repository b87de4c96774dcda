"""Safe YAML loading that keeps the line and column of every value.

Refuses: files larger than a limit, bytes that are not UTF-8, several documents in one file, tags other
than YAML's core ones (so no object construction), duplicate keys, non-scalar keys, documents nested too
deeply and aliases that expand to more values than the document itself holds (the "billion laughs"). What is
written out in full is bounded by the file's size, so an honest inventory of any size the size limit admits is
read; only what aliases repeat is counted against the expansion limit.
Dates are returned as the text written, so that the models can report an impossible date with its line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor import safeio
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path

MAX_BYTES = 4 * 1024 * 1024
# values that aliases may add by repetition: this many, or four times as many as the document holds written out, if
# more (an inventory that says `facts: *usual` for each of 10,000 systems repeats 130,000 values); a billion laughs
# is stopped once it has built that many
MIN_EXPANSIONS = 500_000
EXPANSION_FACTOR = 4
# values a file may hold written out: 10,000 systems of one host and one endpoint each are about 400,000
MAX_VALUES = 1_500_000
MAX_DEPTH = 40

Path_ = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_PLAIN_INT = re.compile(r"[-+]?[0-9]+")
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE = _CORE + "merge"


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class LoadedYaml:
    """The plain data of a YAML file and where each value and key stands in it."""

    file: str
    data: Any
    sha256: str = ""  # of the bytes read (the very bytes the data came from)
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)

    def position(self, path: Path_, *, key: bool = False) -> Position:
        """Where ``path`` stands, or its nearest declared ancestor when it is absent (a missing field)."""
        if key and path in self.keys:
            return self.keys[path]
        for n in range(len(path), -1, -1):
            prefix = path[:n]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        pos = self.position(path, key=key)
        return Problem(self.file, pos.line, pos.column, dotted(path), message)


EXCERPT = 40  # characters of a file's text a message may quote


def excerpt(text: object, limit: int = EXCERPT) -> str:
    """A short, printable quotation of text from a file: control characters escaped, the rest cut off."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{excerpt(part)}" if out else excerpt(part))
    return out


# libyaml's parser when PyYAML has it (several times faster on a province's inventory), else the pure-Python one;
# both give every node its line and column
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str, loaded: LoadedYaml) -> None:
        self.file = file
        self.loaded = loaded
        self.written: set[int] = set()  # the nodes of the document, each counted once
        self.expanded = 0  # values built again because an alias refers to them
        self.problems: list[Problem] = []
        self._scalar = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, path: Path_, message: str) -> None:
        p = _pos(node)
        self.problems.append(Problem(self.file, p.line, p.column, dotted(path), message))

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if id(node) in self.written:
            self.expanded += 1
            if self.expanded > max(MIN_EXPANSIONS, EXPANSION_FACTOR * len(self.written)):
                p = _pos(node)
                raise InputError([Problem(self.file, p.line, p.column, dotted(path), _(
                    "aliases repeat more than {n} values, far more than the document holds (alias bomb?)").format(
                    n=self.expanded - 1))])
        else:
            self.written.add(id(node))
            if len(self.written) > MAX_VALUES:
                p = _pos(node)
                raise InputError([Problem(self.file, p.line, p.column, dotted(path), _(
                    "the file holds more than {n} values; split it into several files (inventory.d/, records.d/)").format(
                    n=MAX_VALUES))])
        if depth > MAX_DEPTH:
            p = _pos(node)
            raise InputError([Problem(self.file, p.line, p.column, dotted(path),
                                      _("the document is nested more than {n} levels deep").format(n=MAX_DEPTH))])
        self.loaded.values.setdefault(path, _pos(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _CORE + "map":
                self.fail(node, path, _("tag {tag} is not allowed").format(tag=node.tag))
                return None
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _CORE + "seq":
                self.fail(node, path, _("tag {tag} is not allowed").format(tag=node.tag))
                return None
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            self.fail(node, path, _("tag {tag} is not allowed").format(tag=node.tag))
            return None
        if node.tag == _CORE + "timestamp":
            return str(node.value)
        if node.tag == _CORE + "int" and not _PLAIN_INT.fullmatch(node.value):
            return str(node.value)  # 0x1F, 0o17, 1_000, 190:20:30 (YAML 1.1 base 60): text, not a number
        try:
            return self._scalar.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.fail(node, path, _("unreadable value: {error}").format(error=exc))
            return None

    def _entries(self, node: yaml.MappingNode, path: Path_, depth: int) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        self.fail(src, path, _("a merge key (<<) must refer to a mapping"))
                        continue
                    yield from self._entries(src, path, depth)
                continue
            yield key_node, value_node

    def mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        explicit: set[str] = set()
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._entries(yaml.MappingNode(_CORE + "map", [(key_node, value_node)]), path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self.fail(key_node, path, _("keys must be plain text"))
                continue
            key = str(key_node.value)
            if key in explicit:
                self.fail(key_node, (*path, key), _("duplicate key {key!r}").format(key=key))
                continue
            explicit.add(key)
            self.loaded.keys[(*path, key)] = _pos(key_node)
            out[key] = self.build(value_node, (*path, key), depth + 1)
        for key_node, value_node in merged:
            key = str(key_node.value)
            if key not in out:
                self.loaded.keys.setdefault((*path, key), _pos(key_node))
                out[key] = self.build(value_node, (*path, key), depth + 1)
        return out


def load_yaml(path: Path, *, max_bytes: int = MAX_BYTES, within: Path | None = None) -> LoadedYaml:
    """Load one YAML file safely, or raise :class:`InputError` with every problem located. With ``within``, a
    file that is a link leading outside that folder is refused unread."""
    return load_yaml_bytes(safeio.read_bytes(path, max_bytes=max_bytes, within=within), display_path(path))


def load_yaml_bytes(raw: bytes, shown: str) -> LoadedYaml:
    """Parse the bytes of a file (``shown``: its name in messages)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, 1, "", _("the file is not UTF-8 text"))]) from None
    loaded = load_yaml_text(text, shown)
    loaded.sha256 = hashlib.sha256(raw).hexdigest()
    return loaded


def load_yaml_text(text: str, shown: str) -> LoadedYaml:
    loaded = LoadedYaml(file=shown, data=None)
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or str(exc)
        raise InputError([Problem(shown, line, col, "", _("not valid YAML: {reason}").format(reason=reason))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(shown, 1, 1, "", _("not valid YAML: {reason}").format(reason=exc))]) from None
    if len(nodes) > 1:
        p = _pos(nodes[1])
        raise InputError([Problem(shown, p.line, p.column, "", _("only one YAML document is allowed per file"))])
    if not nodes:
        loaded.data = {}
        return loaded
    builder = _Builder(shown, loaded)
    loaded.data = builder.build(nodes[0], (), 0)
    if builder.problems:
        raise InputError(builder.problems)
    return loaded
