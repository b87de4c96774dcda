"""Package collection: what is installed on a host, and which release it runs.

Collectors: ``local`` (dpkg-query and /etc/os-release on this machine), ``file`` (a JSON document made by
``auditor agent collect`` on an air-gapped host, or a raw dpkg status file). Nothing is downloaded.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from debian import deb822

DPKG_FORMAT = "${binary:Package}\\t${db:Status-Abbrev}\\t${Version}\\t${source:Package}\\t${source:Version}\\n"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    source: str
    source_version: str


@dataclass(frozen=True)
class PackageInventory:
    os_id: str  # debian, ubuntu
    version_id: str  # 12, 22.04
    codename: str  # bookworm, jammy
    packages: tuple[Package, ...]
    collected_at: str
    method: str
    hostname: str = ""

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["packages"] = [asdict(p) for p in self.packages]
        return {"format": "auditor-packages/1", **data}


class CollectionError(Exception):
    pass


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"')
    return out


def parse_dpkg_query(text: str) -> tuple[Package, ...]:
    packages = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not parts[1].startswith("ii"):
            continue
        name, _status, version, source, source_version = parts
        packages.append(Package(name.split(":")[0], version, source or name.split(":")[0], source_version or version))
    return tuple(packages)


def parse_dpkg_status(text: str) -> tuple[Package, ...]:
    """A dpkg status file (/var/lib/dpkg/status): installed packages, with their source and its version."""
    packages = []
    for para in deb822.Packages.iter_paragraphs(text.splitlines(keepends=True), use_apt_pkg=False):
        if "install ok installed" not in para.get("Status", ""):
            continue
        name, version = para.get("Package", ""), para.get("Version", "")
        source_field = para.get("Source", "").strip()
        source, source_version = name, version
        if source_field:
            source, _sp, rest = source_field.partition(" ")
            source_version = rest.strip("() ") or version
        packages.append(Package(name, version, source, source_version))
    return tuple(packages)


def collect_local() -> PackageInventory:
    if shutil.which("dpkg-query") is None:
        raise CollectionError("dpkg-query is not available on this machine")
    run = subprocess.run(["dpkg-query", "-W", "-f", DPKG_FORMAT], capture_output=True, text=True, check=False,
                         timeout=120)
    if run.returncode != 0:
        raise CollectionError(run.stderr.strip()[:300])
    osr = parse_os_release(Path("/etc/os-release").read_text(encoding="utf-8"))
    return PackageInventory(osr.get("ID", ""), osr.get("VERSION_ID", ""), osr.get("VERSION_CODENAME", ""),
                            parse_dpkg_query(run.stdout), dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            "local", platform.node())


def collect_file(path: Path, declared_os: str | None) -> PackageInventory:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CollectionError(f"{path}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            packages = tuple(Package(**p) for p in data["packages"])
            return PackageInventory(data["os_id"], data["version_id"], data["codename"], packages,
                                    data["collected_at"], "file", data.get("hostname", ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise CollectionError(f"{path}: not an 'auditor agent collect' file ({exc})") from None
    packages = parse_dpkg_status(text)
    if not packages:
        raise CollectionError(f"{path}: no installed package found")
    os_id, version_id, codename = _declared_release(declared_os)
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
    return PackageInventory(os_id, version_id, codename, packages, stamp, "file")


_CODENAMES = {("debian", "9"): "stretch", ("debian", "10"): "buster", ("debian", "11"): "bullseye",
              ("debian", "12"): "bookworm", ("debian", "13"): "trixie", ("ubuntu", "20.04"): "focal",
              ("ubuntu", "22.04"): "jammy", ("ubuntu", "24.04"): "noble", ("ubuntu", "18.04"): "bionic"}


def _declared_release(declared: str | None) -> tuple[str, str, str]:
    """The release from the host's declared ``os`` (such as "Debian 12"), for raw dpkg status files."""
    if not declared:
        raise CollectionError("a dpkg status file says nothing of the release: declare the host's os (\"Debian 12\")")
    words = declared.lower().split()
    os_id = words[0]
    version = next((w for w in words[1:] if w[0].isdigit()), "")
    return os_id, version, _CODENAMES.get((os_id, version), "")
