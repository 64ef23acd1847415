"""The command line as a user meets it: exit codes, one-line errors, readable output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codesign.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codesign.cli", *args], capture_output=True, text=True)


def test_user_error_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input_shape: [16]\npart: xcu205\nlayers: [{type: dense, units: 4}]\n")
    out = _run("estimate", str(bad))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "did you mean 'xcu250'" in lines[0]
    assert "Traceback" not in out.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    out = _run("--debug", "estimate", str(tmp_path / "missing.yaml"))
    assert out.returncode != 0
    assert "Traceback" in out.stderr


def test_list_parts_filters_by_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "parts", "xczu*"]) == 0
    text = capsys.readouterr().out
    assert "xczu9eg" in text
    assert "xcu250" not in text


def test_estimate_prints_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cost_models.analytical")
    assert main(["estimate", str(EXAMPLES / "jet_tagger.yaml")]) == 0
    text = capsys.readouterr().out
    for word in ("fc1", "softmax", "total", "utilization", "latency", "xcu250", "fit probability on xcu250"):
        assert word in text
    assert main(["estimate", str(EXAMPLES / "jet_tagger.yaml"), "--json", "--part", "xcvu9p"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["total"]) >= {"lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles"}
    assert 0 <= data["fit_probability"] <= 1
    for metric, (low, high) in data["intervals"].items():  # 90 % intervals around the estimate
        assert low <= data["total"][metric] <= high
    assert data["part"] == "xcvu9p"
    assert len(data["layers"]) == 9
    assert data["flops"] > 0 and data["params"] == 16 * 64 + 64 + 64 * 32 + 32 + 32 * 32 + 32 + 32 * 5 + 5


def test_estimate_refuses_an_illegal_reuse_factor_override() -> None:
    out = _run("estimate", str(EXAMPLES / "jet_tagger.yaml"), "--strategy", "resource", "--reuse-factor", "7")
    assert out.returncode == 2
    assert "hls4ml would silently use" in out.stderr
