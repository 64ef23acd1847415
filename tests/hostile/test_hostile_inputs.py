"""Every bad or hostile input of the corpus gets one clear line and exit code 2, changes nothing, runs nothing;
legitimate edge inputs keep working. The cases are in hostile_corpus.py, hostile_corpus_folders.py and
hostile_corpus_accepted.py (rules in hostile_cases.py).

CLI cases run in this process (``codesign.cli.main(argv)``), so the whole corpus takes well under a minute;
only the closed-pipe case needs a subprocess. Each case gets a time and a memory bound: a resource bomb
would blow them.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import hostile_corpus_folders  # noqa: F401 (importing it appends its cases to CASES)
import pytest
from hostile_cases import CATEGORIES, DIR, Case
from hostile_corpus import CASES
from hostile_corpus_accepted import ACCEPTED

from codesign.cli import main

#: Per-case bounds: wall time (generous: the machine is shared) and growth of the process's peak memory.
MAX_SECONDS = 30.0
MAX_RSS_GROWTH_MB = 400
ROOT = Path(__file__).resolve().parents[2]


def _make(case: Case, folder: Path) -> None:
    folder.mkdir()
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            content(path)


def _snapshot(root: Path) -> dict[str, Any]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (path.is_dir(), st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def _argv(case: Case, folder: Path) -> list[str]:
    return [a.replace("{d}", str(folder)) for a in case.argv]


def _run(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> tuple[int, str, str, Path]:
    folder, cwd = tmp_path / "case", tmp_path / "cwd"
    _make(case, folder)
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    caplog.clear()
    try:
        code = main(_argv(case, folder))
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return code, out, "".join(line + "\n" for line in logged) + err, folder


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    folder, cwd = tmp_path / "case", tmp_path / "cwd"
    _make(case, folder)
    cwd.mkdir()
    snapshot = _snapshot(tmp_path)
    monkeypatch.chdir(cwd)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    caplog.clear()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)  # what the CLI would print on stderr
        try:
            code = main(_argv(case, folder))
        except SystemExit as exit_:
            code = exit_.code
    seconds = time.perf_counter() - start
    _, err = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    shown = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    lines = logged + shown + err.splitlines()
    assert code == 2, f"exit code {code}; stderr: {err[:2000]}"
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {lines[:5]}"
    assert "Traceback" not in err and len(lines[0]) <= 700
    assert "error:" in lines[0]
    assert re.search(case.expect, lines[0]), f"{case.expect!r} not in: {lines[0]}"
    assert _snapshot(tmp_path) == snapshot, "the refusal created, changed or removed files"
    assert not (folder / "pwned").exists() and not (cwd / "pwned").exists()
    assert seconds < MAX_SECONDS
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_rss) / 1024
    assert grown_mb < MAX_RSS_GROWTH_MB, f"peak memory grew by {grown_mb:.0f} MB"


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.id for c in ACCEPTED])
def test_legitimate_edge_input_keeps_working(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    if case.subprocess:
        _pipe_closed_early(case, tmp_path)
        return
    start = time.perf_counter()
    code, out, err, folder = _run(case, tmp_path, monkeypatch, capsys, caplog)
    assert code == 0, f"exit code {code}; stderr: {err[:2000]}"
    assert "Traceback" not in err
    assert re.search(case.expect, out, re.S), out[:2000]
    if case.check is not None:
        case.check(folder)
    assert time.perf_counter() - start < 4 * MAX_SECONDS


def _pipe_closed_early(case: Case, tmp_path: Path) -> None:
    """``codesign estimate ... --json | head -1``: the reader leaves after one line; no traceback."""
    folder = tmp_path / "case"
    _make(case, folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "codesign", *_argv(case, folder)]
    for _ in range(3):  # the race (writer still writing when the reader leaves) is what the case is about
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        first = proc.stdout.readline()
        proc.stdout.close()
        _, err = proc.communicate(timeout=MAX_SECONDS)
        assert first.startswith(b"{")
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()[:2000]
        assert proc.returncode in (0, 141)


def test_corpus_covers_every_category() -> None:
    counts = Counter(c.category for c in CASES + ACCEPTED)
    assert set(counts) == set(CATEGORIES), counts
    assert len(CASES) >= 150, len(CASES)
    assert len({c.id for c in CASES + ACCEPTED}) == len(CASES) + len(ACCEPTED)
