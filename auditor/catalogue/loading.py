"""Validate a content YAML file against a model, with the same located messages as the inventory."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from auditor.problems import InputError
from auditor.yamlsafe import LoadedYaml, load_yaml

M = TypeVar("M", bound=BaseModel)


def load_model(path: Path, model: type[M]) -> tuple[M, LoadedYaml]:
    loaded = load_yaml(path)
    try:
        return model.model_validate(loaded.data), loaded
    except ValidationError as exc:
        from auditor.inventory.messages import problems_from  # the inventory package: only to word a problem

        raise InputError(problems_from(exc, loaded, model)) from None
