"""Report parsers and the hls4ml project reader, on hand-written fixtures in the tools' formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cost_models.cost import Target
from cost_models.ir import Activation, LayerKind
from cost_models.lut import read_project
from cost_models.reports import read_csynth, read_csynth_rpt, read_csynth_xml, read_utilization_rpt, tool_for_version
from hw_templates.config import Backend, IoType, Strategy
from hw_templates.errors import CalibrationError

FIXTURES = Path(__file__).parent / "fixtures"
MLP = FIXTURES / "mlp_project"
CNN = FIXTURES / "cnn_stream_project"
REPORTS = "myproject_prj/solution1/syn/report"


def _copy(tmp_path: Path, project: Path) -> Path:
    target = tmp_path / project.name
    shutil.copytree(project, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def test_csynth_xml_gives_top_level_figures() -> None:
    report = read_csynth_xml(MLP / REPORTS / "myproject_csynth.xml")
    assert (report.tool, report.tool_version, report.top) == ("Vivado HLS", "2019.1", "myproject")
    assert (report.part, report.clock_ns, report.clock_uncertainty_ns) == ("xcvu9p-flgb2104-2-e", 5.0, 0.62)
    assert dict(report.resources) == {"bram18": 2, "dsp": 1, "ff": 3120, "lut": 14850, "uram": 0}
    assert (report.latency_max_cycles, report.ii_max_cycles) == (11, 1)


def test_csynth_rpt_agrees_with_the_xml_and_lists_instances() -> None:
    xml = read_csynth_xml(MLP / REPORTS / "myproject_csynth.xml")
    rpt = read_csynth_rpt(MLP / REPORTS / "myproject_csynth.rpt")
    assert dict(rpt.resources) == dict(xml.resources)
    assert (rpt.latency_min_cycles, rpt.latency_max_cycles, rpt.ii_min_cycles, rpt.ii_max_cycles) == (11, 11, 1, 1)
    assert (rpt.clock_ns, rpt.estimated_clock_ns, rpt.part) == (5.0, 4.288, "xcvu9p-flgb2104-2-e")
    assert [i.module for i in rpt.instances] == ["dense_latency_0_0_0_0", "dense_latency_0_0_0_1", "softmax_stable"]
    assert sum(i.resources["lut"] for i in rpt.instances) == 14720  # the Instance row of the summary


def test_vitis_rpt_with_absolute_latency_columns_and_dsp_column() -> None:
    report = read_csynth(CNN / REPORTS / "myproject_csynth.rpt")
    assert (report.tool, report.tool_version) == ("Vitis HLS", "2022.2")
    assert (report.clock_ns, report.clock_uncertainty_ns) == (4.0, 1.08)
    assert (report.latency_min_cycles, report.latency_max_cycles, report.ii_max_cycles) == (131, 139, 72)
    assert report.resources["dsp"] == 39 and len(report.instances) == 4


def test_vitis_solution_csynth_xml_lists_per_module_resources() -> None:
    report = read_csynth_xml(FIXTURES / "vitis_solution_csynth.xml")
    assert (report.tool, report.tool_version, report.part) == ("Vitis HLS", "2023.2", "xcu250-figd2104-2L-e")
    assert report.resources["dsp"] == 2 and report.latency_max_cycles == 1030 and report.ii_max_cycles == 1024
    modules = {m.module: dict(m.resources) for m in report.instances}
    assert modules["dense_resource_rf_gt_nin_rem0"]["lut"] == 9410 and modules["myproject"]["ff"] == 4410


def test_vivado_utilization_counts_block_ram_tiles_as_two_bram18() -> None:
    util = read_utilization_rpt(MLP / "vivado_synth.rpt")
    assert (util.lut, util.ff, util.dsp, util.bram36_tiles, util.bram18) == (6912, 2410, 1, 0.5, 1.0)
    assert (util.tool_version, util.device, util.design_state) == ("2019.1", "xcvu9pflgb2104-2", "Synthesized")


def test_seven_series_utilization_names_are_read(tmp_path: Path) -> None:
    path = tmp_path / "vivado_synth.rpt"
    shutil.copy(MLP / "vivado_synth.rpt", path)
    _edit(path, "| CLB LUTs*                  |", "| Slice LUTs*                |")
    _edit(path, "| CLB Registers              |", "| Slice Registers            |")
    util = read_utilization_rpt(path)
    assert (util.lut, util.ff) == (6912, 2410)


@pytest.mark.parametrize(
    ("name", "keep_fraction", "message"),
    [
        ("myproject_csynth.xml", 0.5, "truncated or malformed XML"),
        ("myproject_csynth.rpt", 0.45, "truncated"),
        ("vivado_synth.rpt", 0.55, "truncated"),
    ],
)
def test_a_truncated_report_is_an_error_naming_the_file(
    tmp_path: Path, name: str, keep_fraction: float, message: str
) -> None:
    source = (MLP / name) if name == "vivado_synth.rpt" else (MLP / REPORTS / name)
    text = source.read_text()
    path = tmp_path / name
    path.write_text(text[: int(len(text) * keep_fraction)])
    reader = read_utilization_rpt if name == "vivado_synth.rpt" else read_csynth
    with pytest.raises(CalibrationError, match=message) as info:
        reader(path)
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["myproject_csynth.xml", "myproject_csynth.rpt"])
def test_an_unknown_tool_version_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    shutil.copy(MLP / REPORTS / name, path)
    _edit(path, "2019.1", "2031.1")
    with pytest.raises(CalibrationError, match=r"unknown tool version '2031\.1'"):
        read_csynth(path)


def test_versions_map_to_the_tool_that_had_them() -> None:
    assert tool_for_version("2020.1", "x") == "Vivado HLS"
    assert tool_for_version("2020.2", "x") == "Vitis HLS"


def test_an_empty_report_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "vivado_synth.rpt"
    path.write_text("")
    with pytest.raises(CalibrationError, match="empty"):
        read_utilization_rpt(path)


# --- hls4ml projects ---------------------------------------------------------------------------------


def test_an_mlp_project_gives_an_hls_and_a_post_synthesis_record() -> None:
    hls, synth = read_project(MLP)
    assert (hls.target, synth.target) == (Target.HLS, Target.SYNTH)
    assert hls.measured["lut"] == 14850 and synth.measured["lut"] == 6912 and synth.measured["bram18"] == 1
    assert synth.measured["latency_cycles"] == 11  # the post-synthesis record keeps the csynth latency
    kinds = [(x.name, x.kind) for x in hls.graph.layers]
    assert kinds == [("input", LayerKind.INPUT), ("fc1", LayerKind.DENSE), ("relu1", LayerKind.ACTIVATION),
                     ("fc2", LayerKind.DENSE), ("softmax", LayerKind.ACTIVATION)]  # fmt: skip
    assert hls.graph.layer("softmax").function is Activation.SOFTMAX
    assert hls.graph.layer("fc1").precision.weight.to_hls() == "ap_fixed<8,3>"
    assert hls.graph.layer("relu1").precision.result.to_hls() == "ap_ufixed<10,4,AP_RND_CONV,AP_SAT>"
    hw = hls.hw
    assert (hw.part.name, hw.clock_ns, hw.backend, hw.io_type, hw.strategy) == (
        "xcvu9p",
        5.0,
        Backend.VIVADO,
        IoType.PARALLEL,
        Strategy.LATENCY,
    )


def test_a_streaming_cnn_project_reads_conv_pool_and_per_layer_reuse() -> None:
    (record,) = read_project(CNN)
    graph, hw = record.graph, record.hw
    assert [x.kind.value for x in graph.layers] == ["input", "conv1d", "activation", "maxpool1d", "flatten", "dense"]
    assert graph.layer("conv1").output_shape == (30, 8) and graph.layer("pool1").output_shape == (15, 8)
    assert graph.input_shape == (32, 2) and graph.layers[0].precision.result.to_hls() == "ap_fixed<12,4>"
    assert (hw.backend, hw.io_type, hw.strategy, hw.reuse_factor) == (
        Backend.VITIS,
        IoType.STREAM,
        Strategy.RESOURCE,
        2,
    )
    assert hw.resolve("fc1").reuse_factor == 8 and hw.part.name == "xczu7ev"


def test_a_skip_connection_cannot_be_matched_to_a_layer_structure(tmp_path: Path) -> None:
    project = _copy(tmp_path, MLP)
    merge = "// add\nstruct config6 : nnet::merge_config {\n    static const unsigned n_elem = 5;\n};\n\n#endif"
    _edit(project / "firmware" / "parameters.h", "\n#endif", "\n" + merge)
    with pytest.raises(
        CalibrationError, match=r"parameters.h: config 'config6' \(nnet::merge_config\) cannot be matched"
    ):
        read_project(project)


def test_sizes_that_do_not_chain_are_an_error(tmp_path: Path) -> None:
    project = _copy(tmp_path, MLP)
    second_dense = "static const unsigned n_in = 32;\n    static const unsigned n_out = 5;"
    _edit(project / "firmware" / "parameters.h", second_dense, second_dense.replace("= 32;", "= 31;"))
    with pytest.raises(CalibrationError, match="does not follow from the previous layer"):
        read_project(project)


def test_a_project_without_reports_is_an_error(tmp_path: Path) -> None:
    project = _copy(tmp_path, MLP)
    shutil.rmtree(project / "myproject_prj")
    (project / "vivado_synth.rpt").unlink()
    with pytest.raises(CalibrationError, match=r"no synthesis report \(expected myproject_prj/solution1/"):
        read_project(project)


def test_a_folder_without_firmware_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "vivado_synth.rpt").write_text((MLP / "vivado_synth.rpt").read_text())
    with pytest.raises(CalibrationError, match=r"expected firmware/parameters\.h"):
        read_project(tmp_path)


def test_only_a_utilization_report_uses_project_tcl_for_part_and_clock(tmp_path: Path) -> None:
    project = _copy(tmp_path, MLP)
    shutil.rmtree(project / "myproject_prj")
    (record,) = read_project(project)
    assert record.target is Target.SYNTH and record.hw.clock_ns == 5.0 and record.hw.part.name == "xcvu9p"
    assert "latency_cycles" not in record.measured
