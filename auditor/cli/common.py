"""What every command shares: the --workspace, --lang and --json options, errors and exit codes."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar, cast

import typer
from rich.console import Console
from rich.markup import escape

from auditor import clock
from auditor.i18n import LANGUAGES, _, set_language
from auditor.problems import InputError, StoreError, UserError

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    """Text from data as it may reach a terminal: control characters (escape sequences...) shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))


def plain(value: object) -> str:
    """Data for a rich table cell or message: printable, and its [brackets] never read as markup."""
    return escape(printable(value))


def say(text: str, *, error: bool = False) -> None:
    """A message that holds data: printed as it is, never read as markup."""
    (err if error else out).print(printable(text), markup=False)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the current folder).", show_default=False),
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="Language of messages: vi (default) or en.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]

F = TypeVar("F", bound=Callable[..., Any])


def apply_lang(lang: str | None) -> None:
    chosen = lang or os.environ.get("AUDITOR_LANG") or "vi"
    if chosen not in LANGUAGES:
        err.print(f"--lang: {chosen!r} ∉ {{{', '.join(LANGUAGES)}}}")
        raise typer.Exit(EXIT_INPUT)
    set_language(chosen)


def print_json(data: Any) -> None:
    """One JSON document on stdout: its outer two levels indented, each item below them (a finding, a system) on
    one line. A scan of a fleet can list 100,000 findings: each line is made by the C encoder and written as it
    is made, where indenting every level would take the pure-Python encoder and the whole text in memory. A list
    given as an iterator is written as a list, each item made only when it is written."""
    _write_json(data, sys.stdout.write, 0)
    sys.stdout.write("\n")


def _write_json(data: Any, write: Callable[[str], Any], depth: int) -> None:
    if isinstance(data, Iterator):
        if depth >= 2:
            data = list(data)
        else:
            _write_items(((None, v) for v in data), False, write, depth)
            return
    if depth >= 2 or not isinstance(data, dict | list) or not data:
        write(json.dumps(data, ensure_ascii=False, default=str))
        return
    _write_items(iter(data.items()) if isinstance(data, dict) else ((None, v) for v in data), isinstance(data, dict),
                 write, depth)


def _write_items(items: Iterator[tuple[Any, Any]], mapping: bool, write: Callable[[str], Any], depth: int) -> None:
    pad, end = "  " * (depth + 1), "  " * depth
    opening, closing = ("{", "}") if mapping else ("[", "]")
    first = True
    for key, value in items:
        write(opening + "\n" if first else ",\n")
        first = False
        write(pad + (json.dumps(str(key), ensure_ascii=False) + ": " if mapping else ""))
        _write_json(value, write, depth + 1)
    write(opening + closing if first else "\n" + end + closing)


def handle_errors(fn: F) -> F:
    """Bad input, unusable stores and faults of the store or the file system met on the way end with their message
    and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        apply_lang(kwargs.get("lang"))
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            if kwargs.get("as_json"):
                print_json({"ok": False, "problems": [p.as_json() for p in exc.problems]})
            for p in exc.problems:
                err.print(p.render(), markup=False)
            err.print(_("{n} problem(s); nothing was stored.").format(n=len(exc.problems)))
            raise typer.Exit(EXIT_INPUT) from None
        except (StoreError, UserError) as exc:
            _refuse(str(exc), kwargs.get("as_json"))
        except Exception as exc:
            from auditor.faults import file_fault, store_fault

            fault = store_fault(exc) or file_fault(exc)
            if fault is None:
                raise
            _refuse(str(fault), kwargs.get("as_json"))

    return cast(F, wrapper)


def _refuse(message: str, as_json: bool | None) -> NoReturn:
    if as_json:
        print_json({"ok": False, "error": message})
    err.print(message, markup=False)
    raise typer.Exit(EXIT_INPUT) from None


def parse_day(value: str | None, option: str) -> dt.date:
    """A date option (YYYY-MM-DD), today when not given; a bad one is a usage error (exit code 2)."""
    if value is None:
        return clock.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        err.print(_("{option}: not a valid date (YYYY-MM-DD): {value!r}").format(option=option, value=value))
        raise typer.Exit(EXIT_INPUT) from None
    if not clock.plausible(day):
        err.print(_("{option}: {value} is outside the years {first} to {last}; is it a typo?").format(
            option=option, value=value, first=clock.EARLIEST.year, last=clock.LATEST.year))
        raise typer.Exit(EXIT_INPUT)
    return day


@contextlib.contextmanager
def scan_progress(*, disable: bool = False, elapsed: bool = False) -> Iterator[Callable[[str, int, str], None]]:
    """A progress bar per check family on stderr; yields the callback the scan calls after each target."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if elapsed:
        columns.append(TimeElapsedColumn())
    with Progress(*columns, console=err, disable=disable, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(family: str, total: int, label: str) -> None:
            if family not in tasks:
                tasks[family] = bar.add_task(_("Scanning {family}").format(family=family.upper()), total=total)
            bar.update(tasks[family], advance=1, description=f"{family.upper()} {label}")

        yield advance


OnOpt = Annotated[str | None, typer.Option("--on", help="The date it happened (YYYY-MM-DD; default today).")]
