"""Turns pydantic validation errors into located, translated problems."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from auditor.i18n import _
from auditor.problems import Problem
from auditor.yamlsafe import EXCERPT, LoadedYaml, Path_, excerpt


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Host] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _model_in(info.annotation)
    return model


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")


class Quoted:
    """A value from a file, as a message quotes it: a short excerpt, never the whole of what was read."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return excerpt(repr(self.value), EXCERPT + 2)

    def __str__(self) -> str:
        return excerpt(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def describe(error: ErrorDetails, root: type[BaseModel], path: Path_) -> str:
    kind = error["type"]
    ctx = {k: Quoted(v) if k == "value" else v for k, v in (error.get("ctx") or {}).items()}
    value = Quoted(error.get("input"))
    if kind == "missing":
        return _("is required")
    if kind == "extra_forbidden":
        parent = model_at(root, path[:-1])
        known = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.5)
        if close:
            return _("unknown key; did you mean {suggestion!r}?").format(suggestion=close[0])
        return _("unknown key; known keys: {known}").format(known=", ".join(known))
    if kind in ("literal_error", "enum"):
        return _("{value!r} is not one of: {expected}").format(value=value, expected=_expected(ctx))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("must be a whole number, not {value!r}").format(value=value)
    if kind in ("bool_type", "bool_parsing"):
        return _("must be true or false, not {value!r}").format(value=value)
    if kind in ("string_type",):
        return _("must be text, not {value!r}").format(value=value)
    if kind in ("list_type",):
        return _("must be a list")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("must be a mapping of keys to values")
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
                "date_invalid"):
        return _("not a valid date (YYYY-MM-DD): {value!r}").format(value=value)
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_invalid"):
        return _("not a valid date and time (YYYY-MM-DDTHH:MM, Vietnam time unless an offset is given): {value!r}"
                 ).format(value=value if kind != "datetime_invalid" else ctx.get("value"))
    if kind == "date_out_of_range":
        return _("{value} is outside the years {first} to {last}; is it a typo?").format(
            value=ctx.get("value"), first=ctx.get("first"), last=ctx.get("last"))
    if kind == "subject_invalid":
        return _("name exactly one subject: a system or an organisation")
    if kind in ("greater_than_equal", "greater_than"):
        return _("must be at least {limit}, not {value!r}").format(limit=ctx.get("ge", ctx.get("gt")), value=value)
    if kind in ("less_than_equal", "less_than"):
        return _("must be at most {limit}, not {value!r}").format(limit=ctx.get("le", ctx.get("lt")), value=value)
    if kind == "too_short":
        return _("must not be empty")
    if kind == "string_pattern_mismatch":
        return _("an id uses only lowercase letters, digits, '.', '_' and '-' (at most 64), not {value!r}").format(
            value=value)
    if kind == "address_invalid":
        return _("not an IP address, network or host name: {value!r}").format(value=ctx.get("value"))
    if kind == "cidr_invalid":
        return _("not a network in CIDR form with its host bits zero (such as 198.18.1.0/28): {value!r}").format(
            value=ctx.get("value"))
    if kind == "hostname_invalid":
        return _("not a host name: {value!r}").format(value=ctx.get("value"))
    if kind == "email_invalid":
        return _("not an e-mail address: {value!r}").format(value=ctx.get("value"))
    if kind == "phone_invalid":
        return _("not a telephone number: {value!r}").format(value=ctx.get("value"))
    if kind == "port_invalid":
        return _("not a port (such as 443 or 443/tcp): {value!r}").format(value=ctx.get("value"))
    if kind == "amount_float":
        return _("write the amount exactly, as a whole number of đồng, not {value!r}").format(value=ctx.get("value"))
    if kind == "amount_invalid":
        return _("not an amount of đồng: {value!r}").format(value=ctx.get("value"))
    if kind == "signing_incomplete":
        return _("give 'organisation', 'identifier' or both: how the officers' certificates name the organisation")
    if kind == "patch_ssh_incomplete":
        return _("SSH collection needs 'user' and a pinned 'host_key'")
    if kind == "patch_file_incomplete":
        return _("file collection needs 'path'")
    return str(error.get("msg", kind))


def problems_from(exc: ValidationError, loaded: LoadedYaml, root: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path: Path_ = tuple(p for p in error["loc"] if isinstance(p, int | str))
        # pydantic adds segments for validator functions; keep only the parts of the document path
        clean: list[str | int] = []
        for part in path:
            if isinstance(part, str) and ("[" in part or part.startswith("function-")):
                continue
            clean.append(part)
        where = tuple(clean)
        problems.append(loaded.problem(where, describe(error, root, where),
                                       key=error["type"] == "extra_forbidden"))
    return problems
