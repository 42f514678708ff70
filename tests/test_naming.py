from pathlib import Path

import pytest

from synthaudio.naming import child_path, safe_name

HOSTILE = ["../x", "a/b", "", "x" * 300, "Ünïcödé 狗", ".", "..", "/etc/passwd", "a\\b", "con:", " ", "\x00nul"]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_stay_inside_root(tmp_path, label):
    path = child_path(tmp_path, label, label, suffix=".wav")
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert all(len(part) <= 84 for part in path.relative_to(tmp_path).parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"ok")  # the name is writable on this file system
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == [path]


def test_plain_names_are_kept_and_distinct_labels_never_collide():
    assert safe_name("dog") == "dog"
    assert safe_name("car_horn") == "car_horn"
    names = {safe_name(label) for label in ["a/b", "a_b", "a?b", "a b", "", ".", ".."]}
    assert len(names) == 7


def test_safe_name_is_stable():
    assert safe_name("a/b") == safe_name("a/b")
    assert Path(safe_name("Ünïcödé 狗")).name.isascii()
