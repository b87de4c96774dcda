"""Patch benchmark: advisories at full size. Imports an OSV all.zip the size of the whole Debian feed, then runs a
patch scan of H hosts of P packages each (collected files, method: file), and does the same comparisons in a bare
script (read the zip, index it by package, compare versions with python-debian) in the same run.

    python -m bench.patch                          # 150,000 records (3 releases each), 100 hosts x 2,000 packages
    python -m bench.patch --behind 1.0             # the worst case: every package with an advisory is behind it
    python -m bench.patch --records 20000 --hosts 20

The data is made up but shaped like the real feed: DEBIAN-CVE-* records, each naming one source package of a
pool of 30,000 and its fixed version in bullseye, bookworm and trixie; each host has 2,000 of those packages, a
tenth of them (--behind) older than a fix. Goal (issue 16): the scan in under 30 s and 500 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

from bench._measure import measure

POOL = 30_000
RELEASES = {"11": "bullseye", "12": "bookworm", "13": "trixie"}

BARE = """
import json, sys, zipfile
from collections import defaultdict
from debian.debian_support import Version
zip_path, hosts_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
fixes = defaultdict(list)
with zipfile.ZipFile(zip_path) as zf:
    for name in zf.namelist():
        rec = json.loads(zf.read(name))
        for a in rec["affected"]:
            if a["package"]["ecosystem"] == "Debian:12":
                for r in a["ranges"]:
                    for e in r["events"]:
                        if "fixed" in e:
                            fixes[a["package"]["name"]].append((rec["id"], e["fixed"]))
parsed = {}
def key(v):
    k = parsed.get(v)
    if k is None:
        k = parsed[v] = Version(v)
    return k
vulnerable = 0
for i in range(count):
    host = json.load(open(f"{hosts_dir}/h{i}.json"))
    for p in host["packages"]:
        if any(key(p["source_version"]) < key(f) for _a, f in fixes.get(p["source"], ())):
            vulnerable += 1
print(vulnerable)
"""


def write_feed(path: Path, records: int, rng: random.Random) -> dict[int, int]:
    """The feed; for each package named, the newest minor version its fixes name."""
    newest: dict[int, int] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for i in range(records):
            n = rng.randrange(POOL)
            pkg = f"pkg{n}"
            minor = rng.randrange(1, 20)
            newest[n] = max(newest.get(n, 0), minor)
            affected = [{"package": {"ecosystem": f"Debian:{v}", "name": pkg},
                         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                                      {"fixed": f"1.{minor}-1+deb{v}u1"}]}],
                         "ecosystem_specific": {"urgency": "medium"}} for v in RELEASES]
            record = {"id": f"DEBIAN-CVE-2026-{i:06d}", "modified": "2026-11-20T00:00:00Z",
                      "schema_version": "1.6.0", "affected": affected}
            zf.writestr(f"DEBIAN-CVE-2026-{i:06d}.json", json.dumps(record))
    return newest


def write_hosts(folder: Path, hosts: int, packages: int, behind: float, newest: dict[int, int],
                rng: random.Random) -> None:
    """Hosts whose packages are at their newest fix, except a fraction ``behind`` at an older version."""
    folder.mkdir()
    for h in range(hosts):
        chosen = rng.sample(range(POOL), packages)
        versions = [f"1.{rng.randrange(1, newest[n])}-1" if n in newest and newest[n] > 1 and rng.random() < behind
                    else f"1.{newest.get(n, 1)}-1+deb12u1" for n in chosen]
        pkgs = [{"name": f"pkg{n}", "version": v, "source": f"pkg{n}", "source_version": v}
                for n, v in zip(chosen, versions, strict=True)]
        (folder / f"h{h}.json").write_text(json.dumps({
            "os_id": "debian", "version_id": "12", "codename": "bookworm", "collected_at": "2026-11-25T00:00:00+00:00",
            "hostname": f"h{h}", "package_format": "deb", "packages": pkgs}), encoding="utf-8")


def inventory(hosts: int) -> str:
    lines = "\n".join(f"      - {{id: h{i}, address: 198.18.{i // 250}.{i % 250 + 1}, os: Debian 12, "
                      f"patch: {{method: file, path: hosts/h{i}.json}}}}" for i in range(hosts))
    return textwrap.dedent("""\
        version: 1
        organisations:
          - {id: o, name: Bench, roles: [owner, operator, security_unit]}
        systems:
          - id: fleet
            name: Fleet
            owner: o
            operator: o
            lifecycle: operating
            go_live: 2020-01-01
            facts: {information: [public], kinds: [internal], serves: [internal], conditional_business: false,
                    administrative_procedures: false, online_public_service_level: 0, infrastructure_scope: none,
                    national_egovernment: false, always_on: false, national_data_centre: false,
                    defence_security_harm: none, industrial_control: none}
            hosts:
        """) + lines + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=150_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--packages", type=int, default=2_000)
    parser.add_argument("--behind", type=float, default=0.1,
                        help="share of each host's packages older than a fix (1.0: every one that has advisories)")
    args = parser.parse_args()
    rng = random.Random(16)
    auditor = str(Path(sys.executable).parent / "auditor")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        feed = Path(tmp) / "all.zip"
        newest = write_feed(feed, args.records, rng)
        feed_mb = feed.stat().st_size / 1e6
        write_hosts(ws / "hosts", args.hosts, args.packages, args.behind, newest, rng)
        (ws / "inventory.yaml").write_text(inventory(args.hosts), encoding="utf-8")
        imported = measure([auditor, "advisories", "import", str(feed), "--json", "-w", str(ws)])
        if imported.returncode != 0:
            raise SystemExit(imported.stderr[-3000:])
        entries = json.loads(imported.stdout)["entries"]
        scan, rescan = (measure([auditor, "scan", "--check", "patch", "--json", "-w", str(ws)]) for _ in range(2))
        for m in (scan, rescan):
            if m.returncode not in (0, 1):
                raise SystemExit(m.stderr[-3000:])
        findings = json.loads(scan.stdout)["findings"]
        vulnerable = sum(1 for f in findings if f["check"] == "patch.vulnerable_package")
        bare = measure([sys.executable, "-c", BARE, str(feed), str(ws / "hosts"), str(args.hosts)])
        if bare.returncode != 0:
            raise SystemExit(bare.stderr[-3000:])
    print(f"{args.records} OSV records (all.zip {feed_mb:.0f} MB), "
          f"{entries} advisory entries; {args.hosts} hosts x {args.packages} packages")
    print(f"{'':>30} {'wall s':>8} {'peak MiB':>9}")
    print(f"{'auditor advisories import':>30} {imported.seconds:>8.2f} {imported.peak_mib:>9.0f}")
    print(f"{'auditor scan --check patch':>30} {scan.seconds:>8.2f} {scan.peak_mib:>9.0f}   "
          f"({vulnerable} vulnerable packages: findings opened)")
    print(f"{'... the same scan again':>30} {rescan.seconds:>8.2f} {rescan.peak_mib:>9.0f}   (findings updated)")
    print(f"{'bare script (zip + compare)':>30} {bare.seconds:>8.2f} {bare.peak_mib:>9.0f}   "
          f"({bare.stdout.strip()} vulnerable packages)")
    print(f"ratio to the bare script, which reads the feed each time: import + scan "
          f"{(imported.seconds + scan.seconds) / bare.seconds:.2f}, a later scan alone {rescan.seconds / bare.seconds:.2f}")
    print("goal (issue 16): the scan in under 30 s and 500 MB")


if __name__ == "__main__":
    main()
