"""`auditor inventory check`: every kind of bad input gets FILE:LINE:COLUMN: field: message and exit code 2."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor import clock
from auditor.inventory.load import load_inventory
from tests.conftest import Result

VALID = """\
version: 1
organisations:
  - id: ubnd
    name: Ủy ban nhân dân tỉnh
    roles: [owner]
  - id: so
    name: Sở Khoa học và Công nghệ
    roles: [owner, security_unit]
    parent: ubnd
  - id: ttcds
    name: Trung tâm Chuyển đổi số
    roles: [operator]
systems:
  - id: portal
    name: Cổng thông tin
    owner: ubnd
    operator: ttcds
    security_unit: so
    lifecycle: operating
    go_live: 2020-01-15
    facts:
      information: [public]
      personal_data_subjects: {basic: 10, sensitive: 0}
    hosts:
      - id: web
        address: 127.0.0.1
        exposure: public
        approved_ports: [443/tcp, 80]
    endpoints:
      - {host: web, port: 443, protocol: https, tls: true, server_name: portal.example.vn}
"""

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<field>[^:]+): (?P<msg>.+)$")


def parse(stderr: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in stderr.splitlines() if (m := LINE.match(line))]


def check(cli: Callable[..., Result], ws: Path, *extra: str) -> tuple[Result, list[dict[str, str]]]:
    r = cli("inventory", "check", "--workspace", ws, *extra)
    return r, parse(r.stderr)


def test_valid_inventory_passes(cli: Callable[..., Result], make_workspace: Callable[[str], Path]) -> None:
    r, _ = check(cli, make_workspace(VALID))
    assert r.exit_code == 0, r.stderr
    assert "hợp lệ" in r.stdout and "3 tổ chức" in r.stdout


def test_repository_demo_inventory_is_valid(cli: Callable[..., Result], demo_inventory_ws: Path) -> None:
    r, _ = check(cli, demo_inventory_ws, "--lang", "en", "--json")
    assert r.exit_code == 0, r.stderr
    assert '"systems": 13' in r.stdout


CASES = [
    # (name, text replaced, replacement, expected line, expected field, words in the Vietnamese message)
    ("unknown key with suggestion", "    parent: ubnd\n", "    parnet: ubnd\n", 9, "organisations[1].parnet",
     "có phải ý bạn là 'parent'"),
    ("duplicate id", "  - id: ttcds\n", "  - id: so\n", 10, "organisations[2].id", "bị trùng (lần đầu ở dòng 6)"),
    ("unknown organisation", "    operator: ttcds\n", "    operator: ttcd\n", 17, "systems[0].operator",
     "không có tổ chức 'ttcd'"),
    ("organisation without the role", "    operator: ttcds\n", "    operator: ubnd\n", 17, "systems[0].operator",
     "không có vai trò 'operator'"),
    ("invalid address", "address: 127.0.0.1", "address: 10.0.0.256", 26, "systems[0].hosts[0].address",
     "không phải địa chỉ IP"),
    ("port out of range", "[443/tcp, 80]", "[443/tcp, 65536]", 28, "systems[0].hosts[0].approved_ports[1].port",
     "không quá 65535"),
    ("endpoint port out of range", "port: 443, protocol", "port: 0, protocol", 30, "systems[0].endpoints[0].port",
     "từ 1 trở lên"),
    ("impossible date", "go_live: 2020-01-15", "go_live: 2023-02-29", 20, "systems[0].go_live", "ngày không hợp lệ"),
    ("wrong type", "{basic: 10,", "{basic: mười,", 23, "systems[0].facts.personal_data_subjects.basic",
     "phải là số nguyên"),
    ("bad enum", "lifecycle: operating", "lifecycle: running", 19, "systems[0].lifecycle", "không thuộc các giá trị"),
    ("missing required field", "    name: Cổng thông tin\n", "", 14, "systems[0].name", "bắt buộc"),
    ("unknown host in endpoint", "{host: web,", "{host: www,", 30, "systems[0].endpoints[0].host",
     "không có máy chủ 'www'"),
    ("duplicate approved port", "[443/tcp, 80]", "[443/tcp, 443]", 28, "systems[0].hosts[0].approved_ports[1]",
     "bị trùng"),
    ("operating without go-live", "    go_live: 2020-01-15\n", "", 14, "systems[0].go_live",
     "phải có ngày đưa vào sử dụng"),
    ("missing CA bundle", "server_name: portal.example.vn}", "server_name: portal.example.vn, ca_bundle: ca.pem}", 30,
     "systems[0].endpoints[0].ca_bundle", "không tìm thấy tệp"),
    ("object tag", "    name: Cổng thông tin\n", "    name: !!python/object:os.system x\n", 15, "systems[0].name",
     "không cho phép thẻ"),
    ("duplicate key", "    lifecycle: operating\n", "    lifecycle: operating\n    lifecycle: retired\n", 20,
     "systems[0].lifecycle", "bị lặp"),
    ("bad server name", "server_name: portal.example.vn", "server_name: 'portal example'", 30,
     "systems[0].endpoints[0].server_name", "không phải tên máy"),
]


@pytest.mark.parametrize(("name", "old", "new", "line", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_bad_input(cli: Callable[..., Result], make_workspace: Callable[[str], Path], name: str,
                                old: str, new: str, line: int, field: str, words: str) -> None:
    assert old in VALID
    ws = make_workspace(VALID.replace(old, new, 1))
    r, found = check(cli, ws)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    match = [p for p in found if p["field"] == field]
    assert match, r.stderr
    assert int(match[0]["line"]) == line, r.stderr
    assert match[0]["file"].endswith("inventory.yaml")
    assert words in match[0]["msg"], r.stderr


def test_every_problem_is_reported_in_one_run_in_english(cli: Callable[..., Result],
                                                         make_workspace: Callable[[str], Path]) -> None:
    text = (VALID.replace("operator: ttcds\n    security", "operator: nobody\n    security")
            .replace("go_live: 2020-01-15", "go_live: 2020-13-01")
            .replace("    parent: ubnd\n", "    parent: ubnd\n    emial: a@b.vn\n"))
    r, found = check(cli, make_workspace(text), "--lang", "en")
    assert r.exit_code == 2
    fields = {p["field"]: p["msg"] for p in found}
    assert fields["systems[0].operator"] == "unknown organisation 'nobody'"
    assert fields["systems[0].go_live"].startswith("not a valid date")
    assert fields["organisations[1].emial"] == "unknown key; did you mean 'email'?"
    assert "3 problem(s); nothing was stored." in r.stderr


def test_future_go_live_and_retirement_order(cli: Callable[..., Result], make_workspace: Callable[[str], Path]) -> None:
    future = (clock.today() + dt.timedelta(days=30)).isoformat()
    text = VALID.replace("go_live: 2020-01-15", f"go_live: {future}")
    r, found = check(cli, make_workspace(text, "a"), "--lang", "en")
    assert r.exit_code == 2 and "in the future" in found[0]["msg"]
    text = VALID.replace("lifecycle: operating", "lifecycle: retired").replace(
        "go_live: 2020-01-15", "go_live: 2020-01-15\n    retired_on: 2019-12-31")
    r, found = check(cli, make_workspace(text, "b"), "--lang", "en")
    assert r.exit_code == 2
    assert found[0]["field"] == "systems[0].retired_on" and "before going live" in found[0]["msg"]


def test_json_output_lists_problems(cli: Callable[..., Result], make_workspace: Callable[[str], Path]) -> None:
    import json

    r = cli("inventory", "check", "--json", "--workspace", make_workspace(VALID.replace("    roles: [owner]\n", "", 1)))
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    assert doc["problems"][0]["field"] == "organisations[0].roles" and doc["problems"][0]["line"] == 3


def test_no_workspace_is_exit_2(cli: Callable[..., Result], tmp_path: Path) -> None:
    r = cli("inventory", "check", "--workspace", tmp_path)
    assert r.exit_code == 2
    assert "auditor init" in r.stderr


def test_not_a_mapping(cli: Callable[..., Result], make_workspace: Callable[[str], Path]) -> None:
    r, found = check(cli, make_workspace("- just\n- a list\n"))
    assert r.exit_code == 2 and found == [] and ":1:1:" in r.stderr


def test_unknown_language_is_usage_error(cli: Callable[..., Result], make_workspace: Callable[[str], Path]) -> None:
    r = cli("inventory", "check", "--workspace", make_workspace(VALID), "--lang", "fr")
    assert r.exit_code == 2


def test_parsed_inventory_is_kept_and_every_check_still_runs(cli: Callable[..., Result],
                                                             make_workspace: Callable[[str], Path]) -> None:
    """The YAML of a workspace's inventory is parsed once per content and kept under .auditor/; the model and
    cross-reference checks run on it every time, and a problem they find is located in the YAML."""
    ws = make_workspace(VALID.replace("server_name: portal.example.vn}",
                                      "server_name: portal.example.vn, ca_bundle: ca.pem}"))
    (ws / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    assert cli("inventory", "load", "--workspace", ws).exit_code == 0
    kept = ws / ".auditor" / "inventory-parsed.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    doc = json.loads(kept.read_text(encoding="utf-8"))
    assert doc["sha256"] == hashlib.sha256((ws / "inventory.yaml").read_bytes()).hexdigest()

    def names() -> list[str]:
        return [s.name for s in load_inventory(ws / "inventory.yaml").inventory.systems]

    # what later commands read is the kept form (the owner's own file, as private as the store beside it)
    doc["data"]["systems"][0]["name"] = "Đọc từ bản đã phân tích"
    kept.write_text(json.dumps(doc), encoding="utf-8")
    assert names() == ["Đọc từ bản đã phân tích"]
    # ... unless others could have written it, or it is not what the auditor writes: then the YAML is parsed again
    kept.chmod(0o644)
    assert names() == ["Cổng thông tin"]
    kept.write_text("{not json", encoding="utf-8")
    kept.chmod(0o600)
    assert names() == ["Cổng thông tin"]
    # an edit of inventory.yaml: the kept form of the earlier bytes is never used
    (ws / "inventory.yaml").write_text((ws / "inventory.yaml").read_text(encoding="utf-8")
                                       .replace("name: Cổng thông tin", "name: Cổng thông tin mới"), encoding="utf-8")
    assert names() == ["Cổng thông tin mới"]
    assert json.loads(kept.read_text(encoding="utf-8"))["data"]["systems"][0]["name"] == "Cổng thông tin mới"
    # the checks still run on the kept form: the CA bundle gone, the problem is named at its line, nothing kept
    (ws / "ca.pem").unlink()
    r, found = check(cli, ws)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert [(p["field"], int(p["line"])) for p in found] == [("systems[0].endpoints[0].ca_bundle", 30)], r.stderr
