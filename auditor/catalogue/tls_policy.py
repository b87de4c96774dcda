"""The TLS policy for a level: Mozilla's guideline configuration plus our overlay (profiles/tls/)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor import safeio
from auditor.catalogue.loading import load_model
from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path
from auditor.vocabulary import Severity
from auditor.workspace import content_file

MAX_GUIDELINE_BYTES = 4 << 20  # Mozilla's guideline JSON is 10 kB

SuiteFamily = Literal["null_cipher", "export", "rc4", "des", "3des", "anonymous", "md5"]


class ProbeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(default=5, gt=0, le=120)
    retries: int = Field(default=1, ge=0, le=5)
    concurrent_servers: int = Field(default=10, ge=1, le=100)
    connections_per_server: int = Field(default=5, ge=1, le=20)
    batch_size: int = Field(default=10, ge=1, le=500)
    workers: int = Field(default=2, ge=1, le=32)


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    levels: list[int] = Field(min_length=1)
    effective_from: dt.date
    base: Literal["modern", "intermediate", "old"]
    reference: str
    cert_expiry_warn_days: int = Field(ge=0, le=365)
    hsts_min_age: int = Field(ge=0)
    forbid: list[SuiteFamily]
    forbid_cbc: bool
    severity: dict[str, Severity] = Field(default_factory=dict)


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    guideline: str
    default: str
    probe: ProbeSettings = Field(default_factory=ProbeSettings)
    policies: list[PolicySpec] = Field(min_length=1)


@dataclass(frozen=True)
class TlsPolicy:
    """Everything the TLS evaluation needs for one level."""

    id: str
    reference: str
    guideline: str
    allowed_versions: frozenset[str]
    allowed_tls12_suites: frozenset[str]  # the guideline's suites for TLS 1.2 and older (IANA names)
    allowed_tls13_suites: frozenset[str]
    rsa_min_bits: int
    ec_min_bits: int
    cert_expiry_warn_days: int
    hsts_min_age: int
    forbid: frozenset[str]
    forbid_cbc: bool
    severity: dict[str, Severity]


@dataclass(frozen=True)
class TlsPolicies:
    by_id: dict[str, TlsPolicy]
    levels: dict[int, str]
    default: str
    probe: ProbeSettings

    def for_level(self, level: int | None) -> TlsPolicy:
        return self.by_id[self.levels.get(level, self.default) if level is not None else self.default]


def load_tls_policies(profiles: Path) -> TlsPolicies:
    path = content_file(profiles, "tls/policy.yaml")
    spec, loaded = load_model(path, PolicyFile)
    guideline_path = path.parent / spec.guideline
    try:
        guideline = json.loads(safeio.read_bytes(guideline_path, max_bytes=MAX_GUIDELINE_BYTES,
                                                 within=profiles))
        configurations = guideline["configurations"]
    except InputError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise InputError([loaded.problem(("guideline",), _("cannot read the TLS guideline {file}: {error}")
                                         .format(file=display_path(guideline_path), error=exc))]) from None
    by_id: dict[str, TlsPolicy] = {}
    levels: dict[int, str] = {}
    problems: list[Problem] = []
    for i, p in enumerate(spec.policies):
        base = configurations.get(p.base)
        if base is None:
            problems.append(loaded.problem(("policies", i, "base"), _("the guideline has no configuration {name!r}")
                                           .format(name=p.base)))
            continue
        by_id[p.id] = TlsPolicy(
            id=p.id, reference=p.reference, guideline=f"Mozilla {guideline.get('version')} {p.base}",
            allowed_versions=frozenset(base["tls_versions"]),
            allowed_tls12_suites=frozenset(base["ciphers"]["iana"]),
            allowed_tls13_suites=frozenset(base.get("ciphersuites", ())),
            rsa_min_bits=int(base.get("rsa_key_size") or 2048),
            ec_min_bits=int(base.get("ecdh_param_size") or 256),
            cert_expiry_warn_days=p.cert_expiry_warn_days, hsts_min_age=p.hsts_min_age,
            forbid=frozenset(p.forbid), forbid_cbc=p.forbid_cbc, severity=dict(p.severity))
        for level in p.levels:
            if level in levels:
                problems.append(loaded.problem(("policies", i, "levels"), _("level {level} is in two policies")
                                               .format(level=level)))
            levels[level] = p.id
    if spec.default not in by_id:
        problems.append(loaded.problem(("default",), _("no policy has the id {name!r}").format(name=spec.default)))
    if problems:
        raise InputError(problems)
    return TlsPolicies(by_id, levels, spec.default, spec.probe)
