"""Problems found in what people declare, and the error that carries them to the CLI (exit code 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, located as FILE:LINE:COLUMN with the field it concerns."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


class InputError(Exception):
    """Bad input: one or more problems, each with its place. Nothing has been stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


def display_path(path: Path) -> str:
    """A path as people should see it: relative to the current directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class UserError(Exception):
    """A request that cannot be carried out as asked (a refused transition, a wrong passphrase): exit code 2."""


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, server down, locked, damaged); reported with exit code 2."""
