"""Package collection: what is installed on a host, and which release it runs.

Collectors: ``local`` (dpkg-query, or ``rpm -qa`` on an RPM-based release, and /etc/os-release on this
machine), ``ssh`` (the same commands on a remote host), ``file`` (a JSON document made by ``auditor agent collect``
on an air-gapped host, or a raw dpkg status file). Nothing is downloaded.
"""

from __future__ import annotations

import datetime as dt
import platform
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from debian import deb822
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from auditor import clock, safeio
from auditor.problems import InputError
from auditor.versions import version_problem

DPKG_FORMAT = "${binary:Package}\\t${db:Status-Abbrev}\\t${Version}\\t${source:Package}\\t${source:Version}\\n"
RPM_FORMAT = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}-%{RELEASE}\\t%{SOURCERPM}\\n"
RPM_FAMILY = {"rhel", "centos", "fedora", "almalinux", "rocky", "ol", "suse", "opensuse", "sles", "amzn"}


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
    pending_security: tuple[str, ...] | None = None  # None: cannot tell (no apt, or a raw status file)
    package_format: str = "deb"  # deb (Debian version ordering) or rpm (rpmvercmp ordering)

    @property
    def advisory_release(self) -> str:
        """The release as advisories name it: the codename for Debian, the version for Ubuntu, the major
        version for RPM-based releases (AlmaLinux:9, Rocky Linux:9, Red Hat enterprise_linux:9)."""
        if self.os_id == "debian":
            return self.codename
        if self.package_format == "rpm":
            return self.version_id.split(".")[0]
        return self.version_id

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["packages"] = [asdict(p) for p in self.packages]
        data["pending_security"] = list(self.pending_security) if self.pending_security is not None else None
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


def _evr(epoch: str, version_release: str) -> str:
    return version_release if epoch in ("", "0", "(none)") else f"{epoch}:{version_release}"


def parse_rpm_query(text: str) -> tuple[Package, ...]:
    """``rpm -qa --qf RPM_FORMAT``: each binary package with its epoch:version-release, and its source package
    (from the SOURCERPM name, name-version-release.src.rpm)."""
    packages = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        name, epoch, version, source_rpm = parts
        evr = _evr(epoch, version)
        source, source_version = name, evr
        if source_rpm.endswith(".src.rpm"):
            pieces = source_rpm.removesuffix(".src.rpm").rsplit("-", 2)
            if len(pieces) == 3:
                source, source_version = pieces[0], _evr(epoch, f"{pieces[1]}-{pieces[2]}")
        packages.append(Package(name, evr, source, source_version))
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


APT_SIMULATE = "LANG=C apt-get -s -o Debug::NoLocking=1 upgrade"


def parse_apt_simulation(text: str) -> tuple[str, ...]:
    """Packages an upgrade would take from a security suite, from `apt-get -s upgrade` (offline: apt's own
    lists as last updated)."""
    out = []
    for line in text.splitlines():
        if (line.startswith("Inst ") and "-Security:" in line) or (line.startswith("Inst ") and "-security" in line):
            out.append(line.split()[1])
    return tuple(sorted(set(out)))


def _local_pending() -> tuple[str, ...] | None:
    if shutil.which("apt-get") is None:
        return None
    run = subprocess.run(["sh", "-c", APT_SIMULATE], capture_output=True, text=True, check=False, timeout=120)
    return parse_apt_simulation(run.stdout) if run.returncode == 0 else None


def _is_rpm_release(osr: dict[str, str]) -> bool:
    family = {osr.get("ID", "")} | set(osr.get("ID_LIKE", "").split())
    return bool(family & RPM_FAMILY)


def collect_rpm(os_release: Path = Path("/etc/os-release"), dbpath: Path | None = None) -> PackageInventory:
    """``rpm -qa`` on this machine (``dbpath``: another RPM database, as on a mounted image)."""
    if shutil.which("rpm") is None:
        raise CollectionError("rpm is not available on this machine")
    cmd = ["rpm", "-qa", "--qf", RPM_FORMAT] + (["--dbpath", str(dbpath)] if dbpath is not None else [])
    run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if run.returncode != 0:
        raise CollectionError(run.stderr.strip()[:300])
    osr = parse_os_release(os_release.read_text(encoding="utf-8"))
    # pending security updates need dnf's metadata cache; not judged offline (None: indeterminate)
    return PackageInventory(osr.get("ID", ""), osr.get("VERSION_ID", ""), osr.get("VERSION_CODENAME", ""),
                            parse_rpm_query(run.stdout), clock.stamp(),
                            "local", platform.node(), None, "rpm")


def collect_local() -> PackageInventory:
    osr_path = Path("/etc/os-release")
    if _is_rpm_release(parse_os_release(osr_path.read_text(encoding="utf-8"))):
        return collect_rpm(osr_path)
    if shutil.which("dpkg-query") is None:
        raise CollectionError("neither dpkg-query nor an RPM-based release was found on this machine")
    run = subprocess.run(["dpkg-query", "-W", "-f", DPKG_FORMAT], capture_output=True, text=True, check=False,
                         timeout=120)
    if run.returncode != 0:
        raise CollectionError(run.stderr.strip()[:300])
    osr = parse_os_release(Path("/etc/os-release").read_text(encoding="utf-8"))
    return PackageInventory(osr.get("ID", ""), osr.get("VERSION_ID", ""), osr.get("VERSION_CODENAME", ""),
                            parse_dpkg_query(run.stdout), clock.stamp(),
                            "local", platform.node(), _local_pending())


REMOTE_COMMAND = (f"if command -v dpkg-query >/dev/null; then dpkg-query -W -f '{DPKG_FORMAT}' && "
                  f"echo '---os-release---' && cat /etc/os-release && "
                  f"echo '---apt---' && ({APT_SIMULATE} || echo '---apt-failed---'); "
                  f"else rpm -qa --qf '{RPM_FORMAT}' && echo '---os-release---' && cat /etc/os-release && "
                  f"echo '---rpm---'; fi")


def collect_ssh(address: str, port: int, user: str, host_key: str, identity_file: Path | None,
                timeout: int = 60) -> PackageInventory:
    """Over SSH with key authentication only and the host key pinned from the inventory; no password ever."""
    if shutil.which("ssh") is None:
        raise CollectionError("the ssh client is not installed (Debian package openssh-client)")
    with tempfile.TemporaryDirectory(prefix="auditor-ssh-") as tmp:
        known = Path(tmp) / "known_hosts"
        host = address if port == 22 else f"[{address}]:{port}"
        known.write_text(f"{host} {host_key.strip()}\n", encoding="utf-8")
        key_type = host_key.split()[0]
        cmd = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
               "-o", "GlobalKnownHostsFile=/dev/null", "-o", f"HostKeyAlgorithms={key_type}",
               "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
               "-o", f"ConnectTimeout={min(timeout, 30)}", "-p", str(port), "-l", user]
        if identity_file is not None:
            cmd += ["-o", "IdentitiesOnly=yes", "-i", str(identity_file)]
        cmd += [address, REMOTE_COMMAND]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CollectionError(f"ssh {user}@{address}:{port}: no answer within {timeout} s") from None
    if run.returncode != 0:
        reason = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"
        if "Host key verification failed" in run.stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in run.stderr:
            reason = "the host key does not match the key pinned in inventory.yaml"
        raise CollectionError(f"ssh {user}@{address}:{port}: {reason}")
    return parse_remote_output(run.stdout, "ssh", address)


def parse_remote_output(stdout: str, method: str, hostname: str) -> PackageInventory:
    """What REMOTE_COMMAND printed: the package list, os-release, and apt's simulation (Debian family only)."""
    packages_text, _sep, rest = stdout.partition("---os-release---")
    stamp = clock.stamp()
    if rest.rstrip().endswith("---rpm---"):
        osr = parse_os_release(rest.rstrip().removesuffix("---rpm---"))
        return PackageInventory(osr.get("ID", ""), osr.get("VERSION_ID", ""), osr.get("VERSION_CODENAME", ""),
                                parse_rpm_query(packages_text), stamp, method, hostname, None, "rpm")
    os_text, _sep, apt_text = rest.partition("---apt---")
    osr = parse_os_release(os_text)
    pending = None if "---apt-failed---" in apt_text else parse_apt_simulation(apt_text)
    return PackageInventory(osr.get("ID", ""), osr.get("VERSION_ID", ""), osr.get("VERSION_CODENAME", ""),
                            parse_dpkg_query(packages_text), stamp, method, hostname, pending)


MAX_COLLECTED_BYTES = 64 * 1024 * 1024  # a host's package list (an RPM host with 10,000 packages: a few MB)


class _Agent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _AgentPackage(_Agent):
    name: StrictStr = Field(min_length=1, max_length=255)
    version: StrictStr = Field(min_length=1, max_length=255)
    source: StrictStr = Field(min_length=1, max_length=255)
    source_version: StrictStr = Field(min_length=1, max_length=255)


class _AgentFile(_Agent):
    """What 'auditor agent collect' writes (PackageInventory.as_json)."""

    os_id: StrictStr = Field(max_length=32)
    version_id: StrictStr = Field(max_length=32)
    codename: StrictStr = Field(max_length=32)
    collected_at: StrictStr = Field(max_length=64)
    hostname: StrictStr = Field(default="", max_length=255)
    package_format: Literal["deb", "rpm"] = "deb"
    pending_security: list[StrictStr] | None = None
    packages: list[_AgentPackage]


def _checked_versions(path: Path | str, packages: tuple[Package, ...], package_format: str) -> tuple[Package, ...]:
    for i, p in enumerate(packages):
        for field_name in ("version", "source_version"):
            why = version_problem(package_format, getattr(p, field_name))
            if why is not None:
                raise CollectionError(f"{path}: packages[{i}].{field_name} ({p.name}): {why}: "
                                      f"{getattr(p, field_name)[:80]!r}")
    return packages


def from_agent_json(data: bytes | dict[str, object], where: str, method: str) -> PackageInventory:
    """A package list in the agent's format (``PackageInventory.as_json``): from a file 'auditor agent collect'
    wrote, or in a zone agent's signed answer. Checked like any input: the schema, and every version."""
    try:
        checked = (_AgentFile.model_validate_json(data) if isinstance(data, bytes)
                   else _AgentFile.model_validate(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        given = repr(first.get("input"))[:60]
        raise CollectionError(f"{where}: not an 'auditor agent collect' package list ({loc}: {first['msg']}, not "
                              f"{given}; {exc.error_count()} problem(s))") from None
    packages = tuple(Package(p.name, p.version, p.source, p.source_version) for p in checked.packages)
    return PackageInventory(checked.os_id, checked.version_id, checked.codename,
                            _checked_versions(where, packages, checked.package_format), checked.collected_at, method,
                            checked.hostname,
                            None if checked.pending_security is None else tuple(checked.pending_security),
                            checked.package_format)


def collect_file(path: Path, declared_os: str | None, within: Path | None = None) -> PackageInventory:
    """A package list written on the host (by 'auditor agent collect', or its dpkg status file). Anything wrong with
    it is a CollectionError (that host's collection_failed finding), never a traceback: it must be a regular file
    (no FIFO to hang the scan, no device), inside ``within`` if a link, bounded, UTF-8, of the agent's schema,
    and every version must parse in its packaging format."""
    try:
        raw = safeio.read_bytes(path, max_bytes=MAX_COLLECTED_BYTES, within=within)
    except InputError as exc:
        raise CollectionError("; ".join(f"{p.file}: {p.message}" for p in exc.problems)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CollectionError(f"{path}: not UTF-8 text (binary content?)") from None
    if text.lstrip().startswith("{"):
        return from_agent_json(raw, str(path), "file")
    packages = _checked_versions(path, parse_dpkg_status(text), "deb")
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
