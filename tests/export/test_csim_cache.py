"""``codesign cache``: reports and clears only the toolkit's own entries of the compile cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

from codesign.cli import main
from codesign.export._csim import STAGING_PREFIX


def _fill(cache: Path) -> None:
    for name, size in (("lib-0123abcd", 1000), ("lib-4567ef01", 500), ("pch-89ab", 250)):
        (cache / name).mkdir(parents=True)
        (cache / name / "payload").write_bytes(b"x" * size)
    (cache / "notes.txt").write_text("the user's own file")
    (cache / "lib-but-a-file").write_text("not a cache entry: a file")
    (cache / f"{STAGING_PREFIX}{os.getpid()}-live").mkdir()  # a build of a running process


def test_info_counts_the_toolkits_entries(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    assert main(["cache", "info", "--cache-dir", str(tmp_path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["libraries"], got["precompiled_headers"], got["bytes"]) == (2, 1, 1750)


def test_clear_removes_only_libraries_and_headers(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    assert main(["cache", "clear", "--cache-dir", str(tmp_path)]) == 0
    assert "removed 2 compiled C models and 1 precompiled headers" in capsys.readouterr().out
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["notes.txt", "lib-but-a-file", f"{STAGING_PREFIX}{os.getpid()}-live"])
    assert main(["cache", "--cache-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["libraries"] == 0


def test_absent_cache_holds_nothing(tmp_path: Path, capsys) -> None:
    assert main(["cache", "clear", "--cache-dir", str(tmp_path / "never"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] == 0
    assert not (tmp_path / "never").exists()
