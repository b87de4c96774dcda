"""`--help` in the language of the messages (Vietnamese unless --lang en or AUDITOR_LANG=en).

The help of each command and option is written in English in the code, as every message is, and is a message of
the catalogue: before the command line runs, the texts of the whole command tree are replaced by their
translations. tools/i18n_update.py extracts them with `help_texts`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from auditor.i18n import LANGUAGES, _, set_language

# what the help screens say around the texts of the commands (typer's panels, click's help option)
FRAME = ("Options", "Arguments", "Commands", "Show this message and exit.")


def help_language(args: Sequence[str]) -> None:
    """Set the language from --lang in ``args`` (wherever it stands: `--help --lang en` too), else AUDITOR_LANG.
    A value not known is left for the command to refuse."""
    chosen = os.environ.get("AUDITOR_LANG")
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            chosen = args[i + 1]
        elif arg.startswith("--lang="):
            chosen = arg.split("=", 1)[1]
    if chosen in LANGUAGES:
        set_language(chosen)


def without_lang_for_help(args: list[str]) -> list[str]:
    """With --help, the arguments without --lang (help_language has read it): a group such as 'budget' has no
    --lang of its own, and 'auditor budget --help --lang en' should show its help in English, not an error."""
    if "--help" not in args:
        return args
    kept: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--lang" and i + 1 < len(args):
            skip = True
        elif not arg.startswith("--lang="):
            kept.append(arg)
    return kept


def _tree(command: Any) -> Iterator[Any]:
    yield command
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from _tree(sub)


def help_texts(command: Any) -> list[str]:
    """Every help text of the command tree, in order (for the catalogue)."""
    texts: list[str] = []
    for c in _tree(command):
        for text in (c.help, c.short_help, *(getattr(p, "help", None) for p in c.params)):
            if text and text not in texts:
                texts.append(text)
    return texts + [t for t in FRAME if t not in texts]


def translate_help(command: Any) -> None:
    """Replace every help text of the command tree by its translation in the current language."""
    for c in _tree(command):
        c.help = _(c.help) if c.help else c.help
        c.short_help = _(c.short_help) if c.short_help else c.short_help
        for p in c.params:
            if getattr(p, "help", None):
                p.help = _(p.help)
        _translate_help_option(c)
        _translate_panels(c)


def _translate_panels(command: Any) -> None:
    """The titles of typer's help panels, set only when a help screen is made (typer's module that draws them
    takes a tenth of a second to import, which a command that shows no help should not pay)."""
    make = command.format_help

    def translated(ctx: Any, formatter: Any) -> Any:
        from typer import rich_utils

        rich_utils.OPTIONS_PANEL_TITLE = _("Options")
        rich_utils.ARGUMENTS_PANEL_TITLE = _("Arguments")
        rich_utils.COMMANDS_PANEL_TITLE = _("Commands")
        return make(ctx, formatter)

    command.format_help = translated


def _translate_help_option(command: Any) -> None:
    """click makes the --help option of each command when it is first asked for, with its own English text."""
    make = command.get_help_option

    def translated(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    command.get_help_option = translated
