"""The loop from synthesis back to calibration, on real exports: ``codesign export`` writes projects, the
vendor tools (not installed here) leave their reports where they write them, ``codesign calibrate``
turns the export folder (or the ``synthesis.csv`` that ``export --build`` writes) into a table, and
``codesign estimate`` and the search use it.

The reports are the hand-written fixtures in ``fixtures/roundtrip/<kind>/`` (Vitis HLS / Vivado 2023.2
layouts, numbers made up but plausible for these designs), laid over copies of the session export at
the paths the tools use: ``myproject_prj/solution1/syn/report/myproject_csynth.{xml,rpt}`` (vitis_hls)
and ``vivado_synth.rpt`` (hls4ml's ``vivado_synth.tcl``). Module names in the reports carry the layer
configs as HLS names them (``..._config39_s``): ``${Dense_MatMul_0}`` is the index of that layer's
config in the copied project's ``firmware/parameters.h``.
"""

from __future__ import annotations

import json
import re
import shutil
import string
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.export.synth import write_synthesis_csv
from cost_models import get_cost_model
from cost_models.exported import read_manifest
from cost_models.lut import LutTable, read_project

pytestmark = pytest.mark.slow

ROUNDTRIP = Path(__file__).parent / "fixtures" / "roundtrip"
#: Measured values in the fixtures (csynth, then Vivado synthesis).
REPORTED = {
    "mlp": {"hls": {"lut": 14820, "ff": 9460, "latency_cycles": 7}, "synth": {"lut": 7364, "ff": 3980}},
    "cnn": {"hls": {"lut": 10654, "ff": 7782, "latency_cycles": 142}, "synth": {"lut": 5318, "ff": 4967}},
}
DESIGNS = {"mlp": "mlp_parallel_latency", "cnn": "cnn_stream_latency"}


def _layer_configs(project: Path) -> dict[str, str]:
    """hls4ml layer name -> index of its config struct, from the comments hls4ml writes above them."""
    text = (project / "firmware" / "parameters.h").read_text()
    return dict(re.findall(r"//\s*(\w+)\n\s*struct\s+\w*?config(\d+)\w*\s*[:{]", text))


def _synthesise(project: Path, kind: str) -> None:
    """Lay the report fixtures of ``kind`` over ``project`` where the tools write them."""
    configs = _layer_configs(project)
    for source in (ROUNDTRIP / kind).rglob("*"):
        if source.is_file():
            target = project / source.relative_to(ROUNDTRIP / kind)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(string.Template(source.read_text()).substitute(configs))


@pytest.fixture()
def export_dir(exported: tuple, tmp_path: Path) -> Path:
    """A copy of the session export: the MLP and the streamed CNN synthesised, one design not."""
    out, _ = exported
    copy = tmp_path / "exports"
    for design in (*DESIGNS.values(), "mlp_stream_resource"):
        shutil.copytree(out / design, copy / design, ignore=shutil.ignore_patterns("ap_types", "*.so", "nnet_utils"))
    for kind, design in DESIGNS.items():
        _synthesise(copy / design, kind)
    return copy


def _estimates(project: Path, target: str, table: Path) -> tuple:
    """The analytical and the table's estimate of the exported design (its manifest's graph and hardware)."""
    design = read_manifest(project)
    assert design is not None
    analytical = get_cost_model("analytical", target).estimate(design.graph, design.hw)
    return analytical, get_cost_model(f"lut:{table}", target).estimate(design.graph, design.hw)


def _applied(notes: list[str] | tuple[str, ...], io: str) -> bool:
    """A note of the lut model names the table key it applied (``dense/io_parallel/latency``)."""
    return any(n.startswith("lut:") and f"/io_{io}/latency" in n and "no support" not in n for n in notes)


def test_calibrating_an_export_folder_gives_a_table_that_moves_estimates_to_the_reports(
    export_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "table.json"
    assert main(["calibrate", str(export_dir), "--out", str(table)]) == 0
    assert "4 rows (hls: 2, synth: 2), 1 skipped" in capsys.readouterr().out
    provenance = LutTable.load(table).provenance
    assert provenance["tool_versions"] == ["Vitis HLS 2023.2", "Vivado 2023.2"]
    for kind, design in DESIGNS.items():
        for target, reported in REPORTED[kind].items():
            analytical, corrected = _estimates(export_dir / design, target, table)
            assert _applied(corrected.notes, design.split("_")[1]), corrected.notes
            for metric, value in reported.items():
                before, after = getattr(analytical, metric), getattr(corrected, metric)
                assert abs(after - value) < abs(before - value), (kind, target, metric, before, after, value)


def test_the_cli_estimate_says_which_table_it_applied(export_dir: Path, tmp_path: Path, capsys) -> None:
    table = tmp_path / "table.json"
    assert main(["calibrate", str(export_dir / DESIGNS["mlp"]), "--out", str(table), "--target", "csynth"]) == 0
    onnx = export_dir / DESIGNS["mlp"] / "qonnx" / "model_hls4ml.onnx"
    capsys.readouterr()
    argv = ["estimate", str(onnx), "--part", "xcu250", "--clock-ns", "5", "--json"]
    assert main([*argv, "--cost-model", f"lut:{table}"]) == 0
    corrected = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    analytical = json.loads(capsys.readouterr().out)
    assert _applied(corrected["notes"], "parallel"), corrected["notes"]
    reported = REPORTED["mlp"]["hls"]["lut"]
    assert abs(corrected["total"]["lut"] - reported) < abs(analytical["total"]["lut"] - reported)


def test_the_synthesis_csv_of_export_build_calibrates_the_same_table(export_dir: Path, tmp_path: Path) -> None:
    tables = {}
    for way in ("folder", "csv"):
        sources = []
        for design in DESIGNS.values():
            project = export_dir / design
            manifest = read_manifest(project)
            write_synthesis_csv(project, manifest.graph, manifest.hw)  # what export --build writes
            sources.append(project / "synthesis.csv" if way == "csv" else project)
        tables[way] = tmp_path / f"{way}.json"
        assert main(["calibrate", *map(str, sources), "--out", str(tables[way])]) == 0
    folder, csv_table = (LutTable.load(tables[w]).to_dict() for w in ("folder", "csv"))
    assert folder["buckets"] == csv_table["buckets"] and folder["provenance"]["rows"] == csv_table["provenance"]["rows"]


def test_a_search_config_runs_with_the_calibrated_table(export_dir: Path, tmp_path: Path) -> None:
    table = tmp_path / "table.json"
    assert main(["calibrate", str(export_dir), "--out", str(table)]) == 0
    config = tmp_path / "search.yaml"
    config.write_text(
        f"""name: calibrated
seed: 0
dataset: digits
space: {{kind: mlp, hidden: [1, 1], units: [8, 16], weight_bits: [4, 4], act_bits: [4, 4]}}
parts: [xcu250]
clock_ns: 5
cost_model: "lut:{table}"
fit_probability: 0.5
hardware: {{io_types: [io_parallel], strategies: [latency], reuse_factor_max: 4}}
training: {{epochs: 1}}
search: {{formulation: pareto, objectives: [accuracy, lut_dsp], sampler: random, trials: 2}}
"""
    )
    run = tmp_path / "run"
    assert main(["search", str(config), "--out", str(run), "--no-progress"]) == 0
    assert (run / "designs.csv").is_file()


def _refused(capsys: pytest.CaptureFixture[str], source: Path, table: Path) -> str:
    assert main(["calibrate", str(source), "--out", str(table)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("codesign calibrate: error:") and "\n" not in err and not table.exists()
    return err


def test_the_report_of_another_exported_design_is_refused(
    export_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mlp, cnn = (export_dir / DESIGNS[k] for k in ("mlp", "cnn"))
    shutil.rmtree(mlp / "myproject_prj")
    shutil.copytree(cnn / "myproject_prj", mlp / "myproject_prj")  # the CNN's csynth report, same top
    err = _refused(capsys, mlp, tmp_path / "table.json")
    assert f"project '{mlp.name}'" in err and "that firmware/parameters.h does not define (it has 3)" in err


def test_an_unfinished_export_is_refused(export_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = export_dir / DESIGNS["mlp"] / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"status": "verified"', '"status": "incomplete"'))
    err = _refused(capsys, export_dir, tmp_path / "table.json")
    assert "export status 'incomplete': the project was not written completely" in err


def test_the_firmware_parser_reads_an_export_without_its_manifest_as_the_manifest_says(export_dir: Path) -> None:
    """The fallback for projects made by others, checked on real hls4ml output (QONNX type names, the
    transpose and zero padding hls4ml inserts in io_stream): same layers, shapes and cost."""
    for design in DESIGNS.values():
        project = export_dir / design
        recorded = read_manifest(project)
        (project / "manifest.json").unlink()
        (record, *_) = read_project(project)
        assert [(x.kind, x.output_shape) for x in record.graph] == [(x.kind, x.output_shape) for x in recorded.graph]
        hw, settings = recorded.hw, ("io_type", "strategy", "reuse_factor", "clock_ns", "part")
        assert [getattr(record.hw, k) for k in settings] == [getattr(hw, k) for k in settings]
        model = get_cost_model("analytical", "hls")
        parsed, exact = model.estimate(record.graph, hw), model.estimate(recorded.graph, hw)
        assert (parsed.lut, parsed.ff, parsed.dsp, parsed.latency_cycles) == (
            exact.lut,
            exact.ff,
            exact.dsp,
            exact.latency_cycles,
        ), design


def test_a_report_built_with_another_clock_and_tool_overrides_the_design_with_a_note(export_dir: Path) -> None:
    project = export_dir / DESIGNS["mlp"]
    xml = project / "myproject_prj/solution1/syn/report/myproject_csynth.xml"
    text = xml.read_text().replace("<TargetClockPeriod>5.00<", "<TargetClockPeriod>4.00<")
    xml.write_text(text.replace("<Version>2023.2</Version>", "<Version>2019.2</Version>"))  # Vivado HLS
    hls, synth = read_project(project)
    assert (hls.hw.clock_ns, hls.hw.backend.value, hls.hw.tool_version) == (4.0, "vivado", "2019.2")
    assert "clock 4 ns from the report (the design says 5 ns)" in hls.notes
    assert "built with Vivado HLS (the design says vitis)" in hls.notes and synth.hw == hls.hw
