"""The safe YAML loader: positions, and every kind of hostile or malformed file refused with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.problems import InputError
from auditor.yamlsafe import load_yaml, load_yaml_text


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_yaml_text(text, "f.yaml")
    return [p.render() for p in exc.value.problems]


def test_positions_of_values_and_keys() -> None:
    loaded = load_yaml_text("a:\n  b: [1, 2]\n  c:\n    - x: 3\n", "f.yaml")
    assert loaded.data == {"a": {"b": [1, 2], "c": [{"x": 3}]}}
    assert loaded.position(("a", "b", 1)) == type(loaded.position(()))(2, 10)
    assert loaded.position(("a", "c", 0, "x")).line == 4
    assert loaded.position(("a", "c", 0, "x"), key=True).column == 7
    # an absent path falls back to its nearest ancestor (where a missing field would go)
    assert loaded.position(("a", "c", 0, "missing")).line == 4


def test_dates_are_kept_as_written_so_impossible_ones_can_be_reported() -> None:
    assert load_yaml_text("d: 2024-02-30\n", "f.yaml").data == {"d": "2024-02-30"}


def test_malformed_yaml_reports_line_and_column() -> None:
    (msg,) = problems("a: 1\nb: [1, 2\nc: 3\n")
    assert msg.startswith("f.yaml:3:")
    assert "YAML" in msg


def test_object_tags_are_refused() -> None:
    (msg,) = problems("a: !!python/object/apply:os.system ['echo pwned']\n")
    assert msg.startswith("f.yaml:1:4:") and "python/object/apply" in msg


def test_custom_tags_are_refused() -> None:
    (msg,) = problems("x:\n  y: !vault secret\n")
    assert msg.startswith("f.yaml:2:6: x.y:") and "!vault" in msg


def test_duplicate_keys_are_refused_with_the_second_place() -> None:
    (msg,) = problems("a: 1\nb: 2\na: 3\n")
    assert msg.startswith("f.yaml:3:1: a:")


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    (msg,) = problems("\n".join(lines) + "\n")
    assert "alias" in msg.lower()


def test_honest_aliases_at_scale_are_read() -> None:
    """12,000 systems that each say `facts: *usual` repeat 156,000 values, more than the document holds written out
    (the old cap of 200,000 values in all refused such an inventory as an alias bomb at about 2,500 systems)."""
    usual = "facts: &usual {" + ", ".join(f"k{i}: v{i}" for i in range(12)) + "}\n"
    text = usual + "systems:\n" + "".join(f"  - {{id: s{i}, owner: o, facts: *usual}}\n" for i in range(12_000))
    loaded = load_yaml_text(text, "f.yaml")
    assert len(loaded.data["systems"]) == 12_000 and loaded.data["systems"][-1]["facts"]["k11"] == "v11"
    assert loaded.position(("systems", 11_999, "owner")).line == 12_002


def test_recursive_alias_is_refused() -> None:
    (msg,) = problems("a: &x [*x]\n")
    assert msg.startswith("f.yaml:1:8: a[0]:") and "*x" in msg
    (msg,) = problems("a: *nowhere\n")
    assert msg.startswith("f.yaml:1:4: a:") and "*nowhere" in msg


def test_deep_nesting_is_refused() -> None:
    (msg,) = problems("a: " + "[" * 60 + "]" * 60 + "\n")
    assert "40" in msg


def test_a_dense_file_is_refused_by_its_count_of_values_before_it_is_all_built() -> None:
    """2,000,000 values in 4 MB: the composer used to make a Python object per value (600 MB) before anything
    was counted; values are now counted as the parser reads them."""
    (msg,) = problems("[" + ",".join(["1"] * 2_000_000) + "]\n")
    assert msg.startswith("f.yaml:1:3000000: [1499999]:") and "1500000" in msg


def test_merge_keys_work_and_explicit_keys_win() -> None:
    loaded = load_yaml_text("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert loaded.data["item"] == {"x": 1, "y": 3}


def test_merged_values_keep_the_place_they_were_written() -> None:
    loaded = load_yaml_text("b: &b {x: 1}\nc: &c {x: 2, y: 3}\nm:\n  <<: [*b, *c]\n  z: 1\n", "f.yaml")
    assert loaded.data["m"] == {"z": 1, "x": 1, "y": 3}  # the first mapping's x wins
    assert loaded.position(("m", "x"), key=True).line == 1 and loaded.position(("m", "y")).line == 2
    (msg,) = problems("m: {<<: [5, {a: 1}]}\n")
    assert msg.startswith("f.yaml:1:10: m:") and "(<<)" in msg


def test_an_anchor_defined_twice_is_refused() -> None:
    (msg,) = problems("a: &x 1\nb: &x 2\nc: *x\n")
    assert msg.startswith("f.yaml:2:4: b:") and "&x" in msg


def test_several_documents_are_refused() -> None:
    (msg,) = problems("a: 1\n---\nb: 2\n")
    assert msg.startswith("f.yaml:3:")


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(InputError) as exc:
        load_yaml(big, max_bytes=1000)
    assert "1000" in exc.value.problems[0].message


def test_non_utf8_file_is_refused_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InputError) as exc:
        load_yaml(f)
    assert exc.value.problems[0].line == 2


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_yaml(tmp_path / "nope.yaml")
