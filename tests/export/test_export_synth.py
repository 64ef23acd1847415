"""Synthesis report parsers on hand-written reports in the documented formats (no vendor tool needed)."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pytest
from export_cases import MLP, hardware

from codesign.export.synth import (
    SCHEMA,
    announce_synthesis,
    collect_reports,
    design_columns,
    estimate_errors,
    find_vendor_tool,
    parse_csynth_rpt,
    parse_csynth_xml,
    parse_vivado_synth_rpt,
    synthesize,
)
from hw_templates.errors import CalibrationError

FIXTURES = Path(__file__).parent / "fixtures"
CSYNTH_2019 = {
    "fpga_part": "xcu250-figd2104-2L-e", "clock_period_ns": 5.0, "est_clock_period_ns": 4.125,
    "clock_uncertainty_ns": 0.62, "hls_tool": "Vivado HLS", "hls_version": "2019.2", "LUT": 6543, "FF": 3210,
    "DSP": 21, "BRAM18": 4, "URAM": 0, "latency_cycles_min": 7, "latency_cycles_max": 9, "II_min": 1, "II_max": 2,
}  # fmt: skip
CSYNTH_2022 = {
    "fpga_part": "xc7z020-clg400-1", "clock_period_ns": 10.0, "est_clock_period_ns": 6.912,
    "clock_uncertainty_ns": 2.7, "hls_tool": "Vitis HLS", "hls_version": "2022.2", "LUT": 12345, "FF": 9876,
    "DSP": 48, "BRAM18": 12, "URAM": 0, "latency_cycles_min": 120, "latency_cycles_max": 120, "II_min": 65,
    "II_max": 65,
}  # fmt: skip


def _subset(row: dict, keys: dict) -> dict:
    return {k: row[k] for k in keys}


@pytest.mark.parametrize(
    ("name", "parser", "expected"),
    [
        ("vivado_hls_2019_csynth.xml", parse_csynth_xml, CSYNTH_2019),
        ("vivado_hls_2019_csynth.rpt", parse_csynth_rpt, CSYNTH_2019),
        ("vitis_hls_2022_csynth.xml", parse_csynth_xml, CSYNTH_2022),
        ("vitis_hls_2022_csynth.rpt", parse_csynth_rpt, CSYNTH_2022),
    ],
)
def test_csynth_reports_give_the_calibration_columns(name: str, parser, expected: dict) -> None:
    row = parser(FIXTURES / name)
    assert row["result_kind"] == "csynth" and row["latency_source"] == "csynth"
    assert _subset(row, expected) == pytest.approx(expected)


def test_xml_and_text_csynth_reports_of_one_design_agree() -> None:
    xml = parse_csynth_xml(FIXTURES / "vivado_hls_2019_csynth.xml")
    rpt = parse_csynth_rpt(FIXTURES / "vivado_hls_2019_csynth.rpt")
    assert xml == rpt


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vivado_2019_synth.rpt", {"LUT": 3120, "FF": 2456, "DSP": 20, "BRAM36_tiles": 1.5, "BRAM18": 3.0, "URAM": 0,
                                   "vivado_version": "2019.2", "fpga_part": "xcu250figd2104-2L"}),
        ("vivado_2020_7series_synth.rpt", {"LUT": 10234, "FF": 8765, "DSP": 44, "BRAM36_tiles": 6, "BRAM18": 12,
                                           "vivado_version": "2020.1", "fpga_part": "7z020clg400-1"}),
    ],
)  # fmt: skip
def test_vivado_utilization_reports_count_bram_as_18k_halves(name: str, expected: dict) -> None:
    row = parse_vivado_synth_rpt(FIXTURES / name)
    assert row["result_kind"] == "vsynth"
    assert _subset(row, expected) == expected


@pytest.mark.parametrize("parser", [parse_csynth_xml, parse_csynth_rpt, parse_vivado_synth_rpt])
def test_a_file_that_is_not_a_report_is_a_calibration_error(parser, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.xml"
    bogus.write_text("<profile><Other/></profile>\n| nothing | here |\n")
    with pytest.raises(CalibrationError, match=r"bogus\.xml"):
        parser(bogus)
    with pytest.raises(CalibrationError, match=r"missing\.rpt.*file not found"):
        parser(tmp_path / "missing.rpt")


def test_reports_of_a_built_project_become_rows_with_csynth_latency(tmp_path: Path) -> None:
    report_dir = tmp_path / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "vivado_hls_2019_csynth.xml", report_dir / "myproject_csynth.xml")
    shutil.copy(FIXTURES / "vivado_2019_synth.rpt", tmp_path / "vivado_synth.rpt")
    csynth, vsynth = collect_reports(tmp_path)
    assert (csynth["result_kind"], vsynth["result_kind"]) == ("csynth", "vsynth")
    assert vsynth["latency_cycles_max"] == 9 and vsynth["latency_source"] == "csynth(same design)"


def test_design_columns_cover_the_schema_with_the_report_columns() -> None:
    graph = MLP.to_graph((64,))
    hw = hardware("io_stream", "resource", 4).with_layer("fc2", reuse_factor=2)
    row = {**design_columns("d1", graph, hw, "d1"), **parse_csynth_xml(FIXTURES / "vivado_hls_2019_csynth.xml")}
    assert row["reuse_factor"] == "mixed" and row["n_layers"] == 2 and row["io_type"] == "io_stream"
    assert set(SCHEMA) - set(row) <= {"vivado_version", "BRAM36_tiles", "notes"}


def test_estimate_error_is_relative_to_the_report() -> None:
    row = parse_csynth_xml(FIXTURES / "vivado_hls_2019_csynth.xml")
    estimate = {"total": {"lut": 6543 * 1.5, "ff": 3210, "dsp": 0.0, "bram18": 2, "latency_cycles": 9}}
    errors = estimate_errors(row, estimate)
    assert errors == {"lut": 0.5, "ff": 0.0, "dsp": -1.0, "bram18": -0.5, "latency_cycles": 0.0}
    assert estimate_errors(row, None) == {}


def test_without_vendor_tools_build_says_so_once_and_skips(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    if find_vendor_tool() is not None:
        pytest.skip("a vendor tool is installed here")
    with caplog.at_level(logging.WARNING, logger="codesign.export.synth"):
        assert announce_synthesis() is False
    assert len(caplog.records) == 1 and "skipping synthesis" in caplog.records[0].getMessage()
    result = synthesize(tmp_path, MLP.to_graph((64,)), hardware(), hls_model=None)
    assert "no Vivado/Vitis HLS on PATH" in result["skipped"]


def test_rows_are_written_in_the_calibration_column_order(tmp_path: Path) -> None:
    from codesign.export.synth import _write_rows

    row = {
        **design_columns("d1", MLP.to_graph((64,)), hardware(), "d1"),
        **parse_csynth_xml(FIXTURES / "vivado_hls_2019_csynth.xml"),
    }
    _write_rows(tmp_path / "synthesis.csv", [row])
    with (tmp_path / "synthesis.csv").open() as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == SCHEMA
        assert next(reader)["LUT"] == "6543.0"
