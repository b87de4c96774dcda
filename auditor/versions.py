"""Package versions: Debian's order (python-debian's parser, dpkg's comparison as a tuple compared in C) and RPM's
order (univers' rpmvercmp), and whether a version can be compared at all. Advisory files and collected package
lists are checked with version_problem before they are used; the patch scan compares with version_key."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cmp_to_key, lru_cache
from typing import Any

from debian.debian_support import Version
from univers.rpm import compare_rpm_versions

from auditor.i18n import _

_RPM_VERSION = re.compile(r"^[0-9A-Za-z._+~^:-]{1,255}$")
_RPM_KEY = cmp_to_key(compare_rpm_versions)


_PAIRS = re.compile(r"(\D*)(\d*)")


def _weight(c: str) -> int:
    """dpkg's order of a character in the non-digit parts: '~' before the end, the end before letters, letters
    before everything else."""
    if c == "~":
        return -1
    return ord(c) if c.isalpha() else ord(c) + 256


def _flat(part: str) -> list[int]:
    """A version part as integers whose plain order is dpkg's order: each non-digit run as its characters'
    weights and a 0 for its end, then its digit run as a number. A part that ends is followed by the 0 of the
    empty run dpkg pads it with, which every non-empty run's first weight differs from."""
    out: list[int] = []
    for text, digits in _PAIRS.findall(part):
        if text or digits:
            out += [_weight(c) for c in text]
            out += [0, int(digits or 0)]
    out.append(0)
    return out


@lru_cache(maxsize=65536)
def _deb_key(version: str) -> tuple[int, ...]:
    """Debian's version order as a tuple compared in C (python-debian parses; comparing its Version objects is
    pure Python, and a fleet's patch scan compares millions of times). Tested against python-debian's own order."""
    parsed = Version(version)
    return (int(parsed.epoch or 0), *_flat(parsed.upstream_version or ""), *_flat(parsed.debian_revision or "0"))


@lru_cache(maxsize=65536)
def _rpm_key(version: str) -> Any:
    return _RPM_KEY(version)


def version_key(package_format: str) -> Callable[[str], Any]:
    """A sort key for the versions of one packaging format. Parsed versions are kept: a fleet's hosts share
    their releases' advisories, and parsing a version costs more than comparing two."""
    if package_format == "rpm":
        return _rpm_key
    return _deb_key


def version_problem(package_format: str, version: object) -> str | None:
    """Why a version cannot be compared with others of its format (None when it can)."""
    if not isinstance(version, str):
        return _("not a version")
    if package_format == "rpm":
        return None if _RPM_VERSION.match(version) else _("not an RPM version")
    try:
        Version(version)  # the parser the comparison key starts from (not its cache: a feed has 100,000s)
    except ValueError:
        return _("not a Debian version")
    return None
