"""``codesign calibrate`` end to end on a small synthetic CSV in the calibration schema and on fixture
projects; bad input gives one line on stderr, exit code 2 and no table file."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from codesign.cli import main
from cost_models import GraphBuilder, LayerPrecision, get_cost_model
from cost_models.lut import LutTable
from hw_templates.config import Backend, HardwareConfig, IoType
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

FIXTURES = Path(__file__).parent / "fixtures"
# The per-layer schema of the calibration data (README: ntorc_layer_costs.csv).
COLUMNS = ["source", "model_id", "layer_type", "n_in", "seq_len", "size", "reuse_factor", "strategy", "io_type",
           "precision", "fpga_part", "clock_period_ns", "hls_tool", "hls_version", "result_kind", "LUT", "FF", "DSP",
           "BRAM18", "latency_cycles_max"]  # fmt: skip


def _rows() -> list[dict[str, str]]:
    """Nine synthetic single-dense-layer results (made up here, with a simple size law)."""
    rows = []
    for n_in in (8, 16, 32):
        for size in (4, 8, 16):
            rows.append(
                {"source": "example/synthetic", "model_id": f"dense_{n_in}_{size}", "layer_type": "dense",
                 "n_in": str(n_in), "seq_len": "1", "size": str(size), "reuse_factor": "1", "strategy": "Latency",
                 "io_type": "io_stream", "precision": "ap_fixed<16,8,AP_RND,AP_SAT>",
                 "fpga_part": "xczu7ev-ffvc1156-2-e", "clock_period_ns": "4", "hls_tool": "Vivado HLS",
                 "hls_version": "2019.1", "result_kind": "csynth", "LUT": str(40 * n_in * size),
                 "FF": str(12 * n_in * size), "DSP": "0", "BRAM18": "0", "latency_cycles_max": str(6 + n_in // 8)}
            )  # fmt: skip
    return rows


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fail(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign calibrate: error:") and "\n" not in err
    return err


def test_calibrate_builds_a_table_the_estimate_path_can_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "history.csv", _rows())
    out = tmp_path / "table.json"
    assert main(["calibrate", str(source), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    table = LutTable.load(out)
    assert table.provenance["rows"]["used"] == 9 and table.provenance["inputs"] == ["history.csv"]
    assert table.provenance["tool_versions"] == ["Vivado HLS 2019.1"]
    p = FixedType.parse("ap_fixed<16,8,AP_RND,AP_SAT>")  # the rows' precision, as the reader builds them
    b = GraphBuilder("probe", (16,), p)
    b.add("dense", units=8, precision=LayerPrecision(p, p, p))
    hw = HardwareConfig(resolve_part("xczu7ev"), clock_ns=4.0, backend=Backend.VIVADO, io_type=IoType.STREAM)
    cost = get_cost_model(f"lut:{out}").estimate(b.build(), hw)
    assert any("corrected by the dense/io_stream/latency table (9 rows)" in n for n in cost.notes)
    assert cost.lut == pytest.approx(40 * 16 * 8, rel=0.15)
    vitis = get_cost_model(f"lut:{out}").estimate(
        b.build(), HardwareConfig(resolve_part("xczu7ev"), io_type=IoType.STREAM)
    )
    assert any("(9 rows, pooled over HLS tools)" in n for n in vitis.notes)


def test_calibrate_reads_hls4ml_project_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "table.json"
    argv = ["calibrate", str(FIXTURES / "mlp_project"), str(FIXTURES / "cnn_stream_project"), "--out", str(out)]
    assert main(argv) == 0
    assert LutTable.load(out).provenance["rows"]["by_target"] == {"hls": 2, "synth": 1}


def test_target_filter_keeps_only_post_synthesis_rows(tmp_path: Path) -> None:
    out = tmp_path / "table.json"
    assert main(["calibrate", str(FIXTURES / "mlp_project"), "--out", str(out), "--target", "post-synthesis"]) == 0
    assert LutTable.load(out).provenance["rows"]["by_target"] == {"synth": 1}


def test_an_existing_table_is_kept_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "history.csv", _rows())
    out = tmp_path / "table.json"
    out.write_text("keep me")
    assert "--force" in _fail(capsys, ["calibrate", str(source), "--out", str(out)])
    assert out.read_text() == "keep me"
    assert main(["calibrate", str(source), "--out", str(out), "--force"]) == 0
    assert LutTable.load(out).provenance["rows"]["used"] == 9


def test_a_csv_missing_a_column_names_file_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "short.csv", _rows(), [c for c in COLUMNS if c != "LUT"])
    out = tmp_path / "table.json"
    err = _fail(capsys, ["calibrate", str(source), "--out", str(out)])
    assert "short.csv" in err and "'LUT'" in err
    assert not out.exists()


def test_a_non_numeric_cell_names_file_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    rows[3]["FF"] = "12k"
    source = _write(tmp_path / "bad.csv", rows)
    out = tmp_path / "table.json"
    err = _fail(capsys, ["calibrate", str(source), "--out", str(out)])
    assert "bad.csv" in err and "line 5" in err and "'FF'" in err and "'12k'" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [source]  # no temporary file left behind


def test_an_empty_calibration_set_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "empty.csv", [])
    out = tmp_path / "table.json"
    assert "calibration set: no usable synthesis result" in _fail(capsys, ["calibrate", str(source), "--out", str(out)])
    assert not out.exists()


def test_a_target_with_no_rows_is_an_empty_calibration_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "history.csv", _rows())
    argv = ["calibrate", str(source), "--out", str(tmp_path / "t.json"), "--target", "post-synthesis"]
    assert "with target post-synthesis" in _fail(capsys, argv)


def test_an_unknown_source_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fail(capsys, ["calibrate", str(tmp_path / "nowhere.csv"), "--out", str(tmp_path / "t.json")])
    assert "nowhere.csv" in err and "no such file" in err
    (tmp_path / "notes.txt").write_text("hello")
    err = _fail(capsys, ["calibrate", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "t.json")])
    assert "expected a CSV file in the calibration schema or an hls4ml project folder" in err


def test_a_truncated_report_in_a_project_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    project = tmp_path / "prj"
    shutil.copytree(FIXTURES / "mlp_project", project)
    util = project / "vivado_synth.rpt"
    util.write_text(util.read_text()[:600])
    err = _fail(capsys, ["calibrate", str(project), "--out", str(tmp_path / "t.json")])
    assert "vivado_synth.rpt" in err and "truncated" in err


def test_sources_with_the_same_name_are_told_apart_in_the_provenance(tmp_path: Path) -> None:
    for name in ("a", "b"):
        shutil.copytree(FIXTURES / "mlp_project", tmp_path / name / "prj")
    table = tmp_path / "table.json"
    assert main(["calibrate", str(tmp_path / "a" / "prj"), str(tmp_path / "b" / "prj"), "--out", str(table)]) == 0
    assert LutTable.load(table).provenance["inputs"] == ["a/prj", "b/prj"]
