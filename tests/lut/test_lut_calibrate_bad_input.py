"""``codesign calibrate`` on bad input: malformed or partial reports, unknown tool versions, reports of
another design, empty folders, CSVs with missing columns. Each gives one line on stderr and exit code
2, and the ``--out`` table is neither created nor overwritten (even with ``--force``).

The projects are copies of the hand-written hls4ml fixture ``fixtures/mlp_project`` (Vivado HLS 2019.1
reports, parameters.h with config2..config5), edited one way per case.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from codesign.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPORTS = "myproject_prj/solution1/syn/report"
KEEP = "an earlier table"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def _truncate_xml(p: Path) -> None:
    xml = p / REPORTS / "myproject_csynth.xml"
    xml.write_text(xml.read_text()[:700])


def _drop_area(p: Path) -> None:
    _edit(p / REPORTS / "myproject_csynth.xml", "<AreaEstimates>", "<Removed>")
    _edit(p / REPORTS / "myproject_csynth.xml", "</AreaEstimates>", "</Removed>")


def _partial_rpt(p: Path) -> None:
    (p / REPORTS / "myproject_csynth.xml").unlink()
    rpt = p / REPORTS / "myproject_csynth.rpt"
    rpt.write_text(rpt.read_text().split("== Utilization Estimates")[0])


def _partial_utilization(p: Path) -> None:
    util = p / "vivado_synth.rpt"
    util.write_text(util.read_text().split("3. ARITHMETIC\n---")[0])


def _future_hls(p: Path) -> None:
    _edit(p / REPORTS / "myproject_csynth.xml", "<Version>2019.1</Version>", "<Version>2031.1</Version>")


def _future_vivado(p: Path) -> None:
    _edit(p / "vivado_synth.rpt", "Vivado v.2019.1", "Vivado v.2031.1")


def _other_top(p: Path) -> None:
    _edit(p / REPORTS / "myproject_csynth.xml", "<TopModelName>myproject<", "<TopModelName>jet_tagger<")


def _other_design_util(p: Path) -> None:
    _edit(p / "vivado_synth.rpt", "| Design       : myproject", "| Design       : jet_tagger")


def _more_layers(p: Path) -> None:
    """A report whose modules are named after configs this firmware does not have (a deeper network)."""
    (p / REPORTS / "myproject_csynth.xml").unlink()
    rpt = p / REPORTS / "myproject_csynth.rpt"
    _edit(rpt, "|dense_latency_0_0_0_1   ", "|dense_latency_config9_s ")


def _foreign_module_report(p: Path) -> None:
    """HLS writes one report per module beside the top's; one names a config the firmware lacks."""
    (p / REPORTS / "dense_latency_ap_fixed_ap_fixed_config11_s_csynth.rpt").write_text("per-module report\n")


def _bad_part(p: Path) -> None:
    _edit(p / REPORTS / "myproject_csynth.xml", "<Part>xcvu9p-flgb2104-2-e</Part>", "<Part>xcfoo99-ff1-2</Part>")


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated xml": (_truncate_xml, "'myproject_csynth.xml': truncated or malformed XML"),
    "xml without area": (_drop_area, "expected PerformanceEstimates and AreaEstimates"),
    "rpt without utilization": (_partial_rpt, "truncated: no utilization summary 'Total' row"),
    "utilization without dsp": (_partial_utilization, "'vivado_synth.rpt': truncated: no dsp row"),
    "unknown hls version": (_future_hls, "unknown tool version '2031.1' (expected Vivado HLS 2017.1-2020.1"),
    "unknown vivado version": (_future_vivado, "unknown Vivado version '2031.1'"),
    "csynth of another top": (_other_top, "top function 'jet_tagger', expected this project's 'myproject'"),
    "utilization of another design": (_other_design_util, "design 'jet_tagger', expected this project's top"),
    "csynth of more layers": (_more_layers, "names layer configs (config9) that firmware/parameters.h does not"),
    "module report of another design": (_foreign_module_report, "(config11) that firmware/parameters.h does not"),
    "unknown part": (_bad_part, "expected a known FPGA part (see `codesign list parts`)"),
}


def _fail(capsys: pytest.CaptureFixture[str], argv: list[str], table: Path) -> str:
    """Run calibrate over an existing table with --force: exit 2, one line, the table untouched."""
    table.write_text(KEEP)
    assert main([*argv, "--out", str(table), "--force"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign calibrate: error:") and "\n" not in err, err
    assert table.read_text() == KEEP
    assert sorted(p.name for p in table.parent.iterdir() if p.name.startswith(f".{table.name}")) == []
    return err


@pytest.mark.parametrize("case", CASES)
def test_a_bad_report_is_one_line_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, expected = CASES[case]
    project = tmp_path / "mlp_project"
    shutil.copytree(FIXTURES / "mlp_project", project)
    edit(project)
    err = _fail(capsys, ["calibrate", str(project)], tmp_path / "table.json")
    assert "project 'mlp_project'" in err and expected in err


def test_one_bad_project_in_an_export_folder_stops_the_whole_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exports"
    for name in ("a", "b"):
        shutil.copytree(FIXTURES / "mlp_project", folder / name)
    _other_top(folder / "b")
    err = _fail(capsys, ["calibrate", str(folder)], tmp_path / "table.json")
    assert "project 'b'" in err and "another design" in err


@pytest.mark.parametrize("content", ["empty", "no projects", "projects without reports"])
def test_a_folder_without_synthesised_projects_is_one_line(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    if content == "no projects":
        (folder / "notes.txt").write_text("hello")
        (folder / "logs").mkdir()
    elif content == "projects without reports":
        for name in ("a", "b"):
            shutil.copytree(FIXTURES / "mlp_project", folder / name, ignore=shutil.ignore_patterns("*.rpt", "*.xml"))
    err = _fail(capsys, ["calibrate", str(folder)], tmp_path / "table.json")
    expected = {
        "empty": "expected an hls4ml project (manifest.json of codesign export, or firmware/) or a folder of them",
        "no projects": "found neither",
        "projects without reports": "none of its 2 hls4ml projects holds a synthesis report",
    }[content]
    assert expected in err


def _synthesis_csv(tmp_path: Path, drop: str = "", arch_json: str | None = None) -> Path:
    """A synthesis.csv in the columns export --build writes (codesign.export.synth.SCHEMA)."""
    from codesign.export.synth import SCHEMA

    row = {c: "" for c in SCHEMA}
    row.update(source="codesign export", model_id="d1", result_kind="csynth", fpga_part="xcu250-figd2104-2L-e",
               clock_period_ns="5", hls_tool="Vitis HLS", hls_version="2023.2", LUT="100", FF="50", DSP="0",
               BRAM18="0", latency_cycles_max="3", precision="input=ap_fixed<8,3>;result=ap_fixed<8,3>",
               weight_precision="ap_fixed<4,1>", strategy="latency", io_type="io_parallel", reuse_factor="1",
               arch_json=arch_json if arch_json is not None else "[]")  # fmt: skip
    path = tmp_path / "synthesis.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[c for c in SCHEMA if c != drop], extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row)
    return path


def test_a_synthesis_csv_missing_a_column_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fail(capsys, ["calibrate", str(_synthesis_csv(tmp_path, drop="arch_json"))], tmp_path / "table.json")
    assert "'synthesis.csv': required column 'arch_json' is missing" in err


def test_a_synthesis_csv_without_the_design_record_says_to_use_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = '[{"name": "fc1", "kind": "dense", "mult_units": [[64, 16]], "reuse_factor": 1, "strategy": "latency"}]'
    err = _fail(capsys, ["calibrate", str(_synthesis_csv(tmp_path, arch_json=old))], tmp_path / "table.json")
    assert "written by an older version: calibrate on the export folder instead" in err


def test_a_malformed_design_record_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = '{"format": "codesign-design/1", "graph": {"name": "x"}, "hardware": {}}'
    err = _fail(capsys, ["calibrate", str(_synthesis_csv(tmp_path, arch_json=broken))], tmp_path / "table.json")
    assert "arch_json: the design record is malformed" in err


def test_an_out_path_that_is_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    assert main(["calibrate", str(FIXTURES / "mlp_project"), "--out", str(folder), "--force"]) == 2
    assert "is a folder; expected the table file to write" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


def test_a_synthesis_csv_row_of_an_unknown_tool_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cost_models import GraphBuilder, LayerPrecision
    from cost_models.exported import design_cell
    from hw_templates.config import HardwareConfig
    from hw_templates.parts import resolve_part
    from hw_templates.precision import FixedType

    p = FixedType.parse("ap_fixed<8,3>")
    builder = GraphBuilder("d1", (8,), p)
    builder.add("dense", units=4, precision=LayerPrecision(p, p))
    cell = design_cell(builder.build(), HardwareConfig(resolve_part("xcu250")))
    path = _synthesis_csv(tmp_path, arch_json=cell)
    path.write_text(path.read_text().replace("2023.2", "2031.1"))
    err = _fail(capsys, ["calibrate", str(path)], tmp_path / "table.json")
    assert "hls_version: unknown tool version '2031.1'" in err
