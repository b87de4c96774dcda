"""Start-up: a command imports only what it uses, so `--help` and read-only commands do not pay for the scanners,
the store or the report engine; every command still loads when it runs; the compiled catalogue is cached."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import i18n
from auditor.cli import LAZY, app
from tests.conftest import REPO, Result

# prints the top-level packages a command line imported, after running it in this process
PROBE = """
import json, sys
sys.argv = ["auditor", *json.loads(sys.argv[1])]
from auditor.cli import main
try:
    main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""

HEAVY = {"sqlalchemy", "sqlmodel", "alembic", "sslyze", "weasyprint", "matplotlib", "nmap", "jinja2", "docx",
         "argon2", "cryptography", "fastapi", "yaml"}
NOT_FOR_LISTING = HEAVY - {"yaml"}  # listing findings reads profiles/obligations.yaml (its fail_from)


def imported(args: list[str], cwd: Path, *, packages: bool = True) -> set[str]:
    """The top-level packages (or, with packages=False, every module) the command line imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    line = [x for x in done.stdout.splitlines() if x.startswith("MODULES ")]
    assert line, done.stderr
    modules = set(json.loads(line[-1][len("MODULES "):]))
    return {m.split(".")[0] for m in modules} if packages else modules


@pytest.mark.parametrize("args", [["--help"], ["--help", "--lang", "en"], ["version"]])
def test_help_imports_no_store_no_scanner_no_report_engine(args: list[str], tmp_path: Path) -> None:
    mods = imported(args, tmp_path)
    assert "typer" in mods and "auditor" in mods  # the probe saw the command run
    assert not mods & HEAVY, sorted(mods & HEAVY)


def test_a_command_help_imports_its_own_module_only(tmp_path: Path) -> None:
    mods = imported(["findings", "--help"], tmp_path, packages=False)
    assert "auditor.cli.findings_cmd" in mods  # the findings commands were loaded to show their options
    assert "auditor.cli.scan_cmd" not in mods
    tops = {m.split(".")[0] for m in mods}
    assert not tops & NOT_FOR_LISTING, sorted(tops & NOT_FOR_LISTING)


def test_findings_json_reads_the_store_without_orm_scanner_or_report_engine(demo_inventory_ws: Path) -> None:
    first = imported(["findings", "--json", "-w", str(demo_inventory_ws)], REPO)
    assert {"sqlalchemy", "sqlmodel"} <= first  # no store yet: it was made, and the inventory taken in
    mods = imported(["findings", "--json", "-w", str(demo_inventory_ws)], REPO)
    # the store is current: read straight, without the ORM
    assert "auditor" in mods and not mods & NOT_FOR_LISTING, sorted(mods & NOT_FOR_LISTING)


def test_root_help_lists_every_command_in_both_languages(cli: Callable[..., Result]) -> None:
    vi = cli("--help")
    en = cli("--help", "--lang", "en")
    assert vi.exit_code == en.exit_code == 0
    for name in LAZY:
        assert f" {name} " in vi.stdout and f" {name} " in en.stdout, name
    assert "Lệnh" in vi.stdout and "Commands" in en.stdout
    assert "Kiểm tra, nạp và liệt kê danh mục hệ thống" in vi.stdout
    assert "Validate, load and list the inventory." in en.stdout


@pytest.mark.parametrize("name", sorted(LAZY))
def test_every_lazy_command_loads_with_its_help(name: str, cli: Callable[..., Result]) -> None:
    r = cli(name, "--help", "--lang", "en")
    assert r.exit_code == 0, r.stderr
    assert f"auditor {name}" in r.stdout
    first_words = " ".join(LAZY[name].help.split()[:4])
    assert first_words in " ".join(r.stdout.split()), (name, r.stdout[:400])
    assert "--install-completion" not in r.stdout


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(cli: Callable[..., Result]) -> None:
    r = cli("findngs")
    assert r.exit_code == 2
    assert "No such command 'findngs'" in r.stderr and "'findings'" in r.stderr


def test_the_whole_tree_loads_for_the_catalogue() -> None:
    import typer.main

    root = typer.main.get_command(app)
    tree = root.load_all()  # type: ignore[attr-defined]
    assert set(LAZY) <= set(tree.commands)
    assert tree.commands["findings"].commands["accept"].params  # type: ignore[attr-defined]


def test_compiled_catalogue_is_cached_and_a_damaged_copy_is_made_again(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n._translations.cache_clear()
    try:
        assert i18n._translations("vi").gettext("Findings") == "Phát hiện"
        (cached,) = (tmp_path / "cache" / "attt-auditor").glob("auditor-vi-*.mo")
        assert cached.stat().st_mode & 0o077 == 0
        cached.write_bytes(b"\x00" * 40)  # damaged: not a catalogue
        i18n._translations.cache_clear()
        assert i18n._translations("vi").gettext("Findings") == "Phát hiện"
        assert cached.read_bytes()[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")  # compiled again
        # a cache folder that cannot be written costs only the time to compile
        monkeypatch.setenv("XDG_CACHE_HOME", "/proc/nonexistent")
        i18n._translations.cache_clear()
        assert i18n._translations("vi").gettext("Findings") == "Phát hiện"
    finally:
        i18n._translations.cache_clear()
