"""The built wheel, installed in a new virtual environment outside the repository: init + inventory check."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, run_auditor


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it (without dependencies) in a fresh venv that borrows ours for them."""
    tmp = tmp_path_factory.mktemp("install")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(REPO)], check=True, capture_output=True)
    (wheel,) = dist.glob("attt_auditor-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # the dependencies come from the test environment; the auditor itself only from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    return venv / "bin" / "auditor"




def test_init_then_check_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    probe = subprocess.run([str(installed.parent / "python"), "-c",
                            "import auditor, pathlib; print(pathlib.Path(auditor.__file__).parent)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    pkg = Path(probe.stdout.strip())
    assert REPO not in pkg.parents, "the auditor must come from the wheel, not the source tree"
    assert (pkg / "_content" / "checks" / "tls.yaml").is_file()

    r = run_auditor("init", "ws", cwd=tmp_path, binary=installed)
    assert r.returncode == 0, r.stderr
    ws = tmp_path / "ws"
    for name in ("inventory.yaml", "checks/tls.yaml", "profiles/regimes.yaml", "reports/README.md"):
        assert (ws / name).is_file(), name
    assert "# inventory.yaml" in (ws / "inventory.yaml").read_text(encoding="utf-8")

    r = run_auditor("inventory", "check", cwd=ws, binary=installed)
    assert r.returncode == 0, r.stderr
    assert "hợp lệ" in r.stdout

    r = run_auditor("inventory", "list", "--json", "--workspace", ws, cwd=tmp_path, binary=installed)
    assert r.returncode == 0, r.stderr
    assert '"cong-ttdt"' in r.stdout
    assert (ws / ".auditor" / "auditor.sqlite").is_file()

    # a second init refuses to overwrite
    r = run_auditor("init", "ws", cwd=tmp_path, binary=installed, env={"AUDITOR_LANG": "en"})
    assert r.returncode == 2 and "already exists" in r.stderr


def test_wheel_contents(installed: Path) -> None:
    wheel = next(installed.parent.parent.parent.glob("dist/*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("auditor/_content/checks/tls.yaml", "auditor/_content/profiles/regimes.yaml",
                     "auditor/_content/inventory.yaml", "auditor/locale/vi/LC_MESSAGES/auditor.po",
                     "auditor/store/migrations/versions/0001_inventory_tables.py", "auditor/skeleton/inventory.yaml"):
        assert expected in names, expected
