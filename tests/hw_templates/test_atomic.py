"""Atomic writes leave either the old file or the whole new one, never a part, and no temporary files."""

from __future__ import annotations

import pytest

from hw_templates.atomic import atomic_open, atomic_write_json, atomic_write_text


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "designs.csv"
    target.write_text("old\n")
    atomic_write_text(target, "new,content\n")
    assert target.read_text() == "new,content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["designs.csv"]


def test_failure_inside_block_keeps_old_content(tmp_path):
    target = tmp_path / "run.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_open(target) as out:
        out.write('{"a": 2, "half')
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_bad_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode must be"), atomic_open(tmp_path / "x", "a"):
        pass
