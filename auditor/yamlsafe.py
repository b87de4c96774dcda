"""Safe YAML loading that keeps the line and column of every value.

The plain data is built straight from libyaml's parser events (each carries its line and column), never through
a graph of YAML nodes: composing that graph made a Python object per value before anything could be counted
(600 MB for a 4 MB file of small values) and took four fifths of the time.

Refuses: files larger than a limit, bytes that are not UTF-8, several documents in one file, tags other
than YAML's core ones (so no object construction), duplicate keys, non-scalar keys, documents nested too
deeply, files of more values than a limit (counted as they are read), aliases to nothing or to themselves, and
aliases that repeat far more values than the document holds written out (the "billion laughs": what is written
is bounded by the file's size; only what aliases repeat is counted against the expansion limit).
Dates are returned as the text written, so that the models can report an impossible date with its line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
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


# libyaml's parser when PyYAML has it, else the pure-Python one; its events carry the line and column of each value
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Next = Callable[[], yaml.Event]  # the next event of the value being built
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.SafeLoader("")
_STR, _INT, _TIMESTAMP, _NULL, _BOOL = (_CORE + t for t in ("str", "int", "timestamp", "null", "bool"))
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}


def _pos(event: yaml.Event) -> Position:
    mark = event.start_mark
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


class _Events:
    """The stream of events, recorded into every anchor being defined."""

    def __init__(self, events: Iterator[yaml.Event]) -> None:
        self._events = events
        self.recording: list[list[yaml.Event]] = []

    def next(self) -> yaml.Event:
        event = next(self._events)
        for rec in self.recording:
            rec.append(event)
        return event


class _Builder:
    def __init__(self, file: str, loaded: LoadedYaml, events: Iterator[yaml.Event]) -> None:
        self.file = file
        self.loaded = loaded
        self.values = loaded.values
        self.keys = loaded.keys
        self.stream = _Events(events)
        self.anchors: dict[str, list[yaml.Event]] = {}
        self.written = 0
        self.expanded = 0
        self.replaying = 0
        self.problems: list[Problem] = []

    def fail(self, event: yaml.Event, path: Path_, message: str) -> None:
        p = _pos(event)
        self.problems.append(Problem(self.file, p.line, p.column, dotted(path), message))

    def stop(self, event: yaml.Event, path: Path_, message: str) -> InputError:
        p = _pos(event)
        return InputError([Problem(self.file, p.line, p.column, dotted(path), message)])

    def count(self, event: yaml.Event, path: Path_) -> None:
        if self.replaying:
            self.expanded += 1
            if self.expanded > max(MIN_EXPANSIONS, EXPANSION_FACTOR * self.written):
                raise self.stop(event, path, _(
                    "aliases repeat more than {n} values, far more than the document holds (alias bomb?)").format(
                    n=self.expanded - 1))
        else:
            self.written += 1
            if self.written > MAX_VALUES:
                raise self.stop(event, path, _(
                    "the file holds more than {n} values; split it into several files (inventory.d/, records.d/)")
                    .format(n=MAX_VALUES))

    def node(self, event: yaml.Event, next_event: Next, path: Path_, depth: int) -> Any:
        """The value that starts with ``event`` (its following events taken from ``next_event``)."""
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event, path, depth)
        self.count(event, path)
        if depth > MAX_DEPTH:
            raise self.stop(event, path, _("the document is nested more than {n} levels deep").format(n=MAX_DEPTH))
        self.values.setdefault(path, _pos(event))
        anchor: str | None = getattr(event, "anchor", None)
        if anchor is not None and not self.replaying:
            if anchor in self.anchors or any(getattr(rec[0], "anchor", None) == anchor for rec in self.stream.recording):
                raise self.stop(event, path, _("the anchor &{name} is defined twice").format(name=anchor))
            self.stream.recording.append([event])
        try:
            value = self._value(event, next_event, path, depth)
        finally:
            if anchor is not None and not self.replaying:
                self.anchors[anchor] = self.stream.recording.pop()
        return value

    def alias(self, event: yaml.AliasEvent, path: Path_, depth: int) -> Any:
        recorded = self.anchors.get(event.anchor or "")
        if recorded is None:
            raise self.stop(event, path, _("the alias *{name} refers to no anchor defined before it (or to itself)")
                            .format(name=event.anchor))
        replay = iter(recorded)
        self.replaying += 1
        try:
            return self.node(next(replay), replay.__next__, path, depth)
        finally:
            self.replaying -= 1

    def _value(self, event: yaml.Event, next_event: Next, path: Path_, depth: int) -> Any:
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, path)
        if isinstance(event, yaml.SequenceStartEvent):
            bad = event.tag not in (None, "!", _CORE + "seq")
            items: list[Any] = []
            while not isinstance(e := next_event(), yaml.SequenceEndEvent):
                items.append(self.node(e, next_event, (*path, len(items)), depth + 1))
            if bad:
                self.fail(event, path, _("tag {tag} is not allowed").format(tag=event.tag))
                return None
            return items
        if isinstance(event, yaml.MappingStartEvent):
            bad = event.tag not in (None, "!", _CORE + "map")
            out = self.mapping(next_event, path, depth)
            if bad:
                self.fail(event, path, _("tag {tag} is not allowed").format(tag=event.tag))
                return None
            return out
        raise self.stop(event, path, _("not valid YAML: unexpected {event}").format(event=type(event).__name__))

    def scalar(self, event: yaml.ScalarEvent, path: Path_) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = (_RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
                   if tag is None else _STR)
        if tag not in _SCALAR_TAGS:
            self.fail(event, path, _("tag {tag} is not allowed").format(tag=tag))
            return None
        text = event.value
        if tag in (_STR, _TIMESTAMP):
            return text
        if tag == _INT:
            return int(text) if _PLAIN_INT.fullmatch(text) else text  # 0x1F, 1_000, 190:20:30: text, not a number
        if tag == _NULL:
            return None
        if tag == _BOOL and text.lower() in _BOOLS:
            return _BOOLS[text.lower()]
        try:
            return _CONSTRUCTOR.construct_object(yaml.ScalarNode(tag, text), deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.fail(event, path, _("unreadable value: {error}").format(error=exc))
            return None

    def mapping(self, next_event: Next, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[tuple[dict[str, Any], dict[Path_, Position], dict[Path_, Position]]] = []
        while not isinstance(key_event := next_event(), yaml.MappingEndEvent):
            if isinstance(key_event, yaml.ScalarEvent) and key_event.tag is None and key_event.value == "<<" \
                    and key_event.implicit[0]:
                merged.append(self.merge(key_event, next_event, path, depth))
                continue
            if not isinstance(key_event, yaml.ScalarEvent) or key_event.tag not in (None, "!", *_SCALAR_TAGS):
                self.fail(key_event, path, _("keys must be plain text"))
                self.skip(key_event, next_event)
                self.skip(next_event(), next_event)
                continue
            self.count(key_event, path)
            key = str(key_event.value)
            if key in out:
                self.fail(key_event, (*path, key), _("duplicate key {key!r}").format(key=key))
                self.skip(next_event(), next_event)
                continue
            self.keys[(*path, key)] = _pos(key_event)
            out[key] = self.node(next_event(), next_event, (*path, key), depth + 1)
        for data, values, keys in merged:
            for key, value in data.items():
                if key in out:
                    continue
                out[key] = value
                sub = (*path, key)
                for where, pos in values.items():
                    if where[: len(sub)] == sub:
                        self.values.setdefault(where, pos)
                for where, pos in keys.items():
                    if where[: len(sub)] == sub:
                        self.keys.setdefault(where, pos)
        return out

    def merge(self, key_event: yaml.Event, next_event: Next, path: Path_,
              depth: int) -> tuple[dict[str, Any], dict[Path_, Position], dict[Path_, Position]]:
        """What a merge key (<<) brings: its mappings' entries (the first mapping's win), with their positions."""
        outer_values, outer_keys = self.values, self.keys
        values: dict[Path_, Position] = {}
        keys: dict[Path_, Position] = {}
        sources: list[tuple[yaml.Event, Any]] = []

        def source(event: yaml.Event) -> None:  # built with positions of its own; the first source's win
            self.values, self.keys = {}, {}
            sources.append((event, self.node(event, next_event, path, depth)))
            for where, pos in self.values.items():
                values.setdefault(where, pos)
            for where, pos in self.keys.items():
                keys.setdefault(where, pos)

        try:
            first = next_event()
            if isinstance(first, yaml.SequenceStartEvent):  # <<: [*a, *b]: each mapping merged at this path
                self.count(first, path)
                while not isinstance(item := next_event(), yaml.SequenceEndEvent):
                    source(item)
            else:
                source(first)
        finally:
            self.values, self.keys = outer_values, outer_keys
        data: dict[str, Any] = {}
        for event, src in sources:
            if not isinstance(src, dict):
                self.fail(event, path, _("a merge key (<<) must refer to a mapping"))
                continue
            for key, item in src.items():
                data.setdefault(key, item)
        return data, values, keys

    def skip(self, event: yaml.Event, next_event: Next) -> None:
        """Pass over a value without building it."""
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            depth = 1
            while depth:
                e = next_event()
                if isinstance(e, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                    depth += 1
                elif isinstance(e, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                    depth -= 1


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
    events = yaml.parse(text, Loader=_LOADER)
    builder = _Builder(shown, loaded, events)
    stream = builder.stream
    try:
        stream.next()  # StreamStart
        event = stream.next()
        if isinstance(event, yaml.StreamEndEvent):
            loaded.data = {}
            return loaded
        root = stream.next()  # after DocumentStart
        loaded.data = builder.node(root, stream.next, (), 0)
        stream.next()  # DocumentEnd
        event = stream.next()
        if not isinstance(event, yaml.StreamEndEvent):
            p = _pos(stream.next() if isinstance(event, yaml.DocumentStartEvent) else event)  # the second's content
            raise InputError([Problem(shown, p.line, p.column, "", _("only one YAML document is allowed per file"))])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or str(exc)
        raise InputError([Problem(shown, line, col, "", _("not valid YAML: {reason}").format(reason=reason))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(shown, 1, 1, "", _("not valid YAML: {reason}").format(reason=exc))]) from None
    if builder.problems:
        raise InputError(builder.problems)
    return loaded
