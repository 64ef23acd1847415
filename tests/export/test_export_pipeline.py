"""End to end: trained Brevitas designs -> hls4ml projects -> g++ C simulation, bit-exact.

Uses the session export of ``conftest.py`` (MLP and CNN, io_parallel and io_stream, Latency and
Resource, Vitis and Vivado backends), so the C models are compiled once for all these tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from export_cases import EXPORT_CASES

pytestmark = pytest.mark.slow


def test_every_design_is_bit_exact_on_the_whole_test_split(exported: tuple) -> None:
    _, results = exported
    assert [r.design_id for r in results] == [case[1] for case in EXPORT_CASES]
    for result in results:
        v = result.verification
        assert result.status == "verified", result.error
        assert v.bit_exact_mismatches == 0 and v.max_abs_diff == 0.0
        assert v.n_samples == 360  # digits test split (20 % of 1797)
        assert v.csim_accuracy == v.model_accuracy


def test_trained_designs_classify_well_above_chance_in_c_simulation(exported: tuple) -> None:
    _, results = exported
    for result in results:
        assert result.verification.csim_accuracy > 0.5, result.design_id


def test_testbench_files_hold_the_test_vectors_and_model_outputs(exported: tuple) -> None:
    out, results = exported
    project = out / "cnn_stream_latency"
    inputs = np.loadtxt(project / "tb_data" / "tb_input_features.dat", ndmin=2)
    outputs = np.loadtxt(project / "tb_data" / "tb_output_predictions.dat", ndmin=2)
    labels = np.loadtxt(project / "tb_data" / "tb_labels.dat", ndmin=1)
    assert inputs.shape == (360, 64) and outputs.shape == (360, 10) and labels.shape == (360,)
    accuracy = float(np.mean(outputs.argmax(axis=1) == labels))
    assert accuracy == pytest.approx(results[3].verification.model_accuracy)


def test_manifest_records_design_costs_applied_settings_and_versions(exported: tuple) -> None:
    out, _ = exported
    manifest = json.loads((out / "mlp_stream_resource" / "manifest.json").read_text())
    assert manifest["status"] == "verified" and manifest["backend"] == "vivado"
    assert manifest["design"]["hardware"]["io_type"] == "io_stream"
    assert manifest["estimated_cost"] is not None or manifest["estimated_cost_error"]
    assert manifest["tool_versions"]["hls4ml"].startswith("1.3")
    applied = {a["ir_name"]: a for a in manifest["hls4ml"]["applied"] if a["ir_name"]}
    assert applied["fc1"]["reuse_factor"] == 4 and applied["fc1"]["strategy"] == "resource"
    assert applied["fc2"]["reuse_factor"] == 4
    assert manifest["verification"]["bit_exact_mismatches"] == 0
    assert manifest["timings"]["compile_seconds"] >= 0


def test_hls4ml_project_is_configured_from_the_hardware_configuration(exported: tuple) -> None:
    out, _ = exported
    config = (out / "cnn_parallel_resource" / "hls4ml_config.yml").read_text()
    assert "Part: xcu250-figd2104-2L-e" in config
    assert "IOType: io_parallel" in config and "ClockPeriod: 5.0" in config
    assert "Backend: Vitis" in config
    parameters = (out / "cnn_parallel_resource" / "firmware" / "parameters.h").read_text()
    assert "static const unsigned reuse_factor = 3;" in parameters
    assert "nnet::resource" in parameters


def test_qonnx_models_and_index_are_written(exported: tuple) -> None:
    out, results = exported
    for result in results:
        assert (result.project_dir / "qonnx" / "model_brevitas.onnx").stat().st_size > 0
        assert (result.project_dir / "qonnx" / "model_hls4ml.onnx").stat().st_size > 0
        assert (result.project_dir / "verification.json").is_file()
    index = json.loads((out / "exports.json").read_text())
    assert {d["design_id"]: d["bit_exact_mismatches"] for d in index["designs"]} == {c[1]: 0 for c in EXPORT_CASES}


def test_verify_reuses_the_compiled_model_and_rechecks(exported: tuple, csim_cache) -> None:
    from codesign.export import verify_exports

    out, _ = exported
    results = verify_exports(out, jobs=2, cache_dir=csim_cache, progress=False)
    assert len(results) == len(EXPORT_CASES)
    assert all(r.compile_reused and r.compile_seconds == 0 and r.bit_exact_mismatches == 0 for r in results)


def test_fast_build_agrees_with_hls4ml_own_compile(exported: tuple, tmp_path: Path) -> None:
    """Oracle: hls4ml's own ModelGraph.compile()/predict on the same design gives the same outputs."""
    from codesign.export._worker import QONNX_CLEAN
    from codesign.export.translate import translate
    from cost_models.ir import LayerGraph

    _, results = exported
    source = results[0].project_dir
    manifest = json.loads((source / "manifest.json").read_text())
    graph = LayerGraph.from_dict(manifest["design"]["graph"])
    onnx_path = tmp_path / "model.onnx"
    shutil.copy(source / QONNX_CLEAN, onnx_path)
    translation = translate(onnx_path, graph, EXPORT_CASES[0][2], tmp_path / "prj")
    translation.hls_model.compile()
    inputs = np.loadtxt(source / "tb_data" / "tb_input_features.dat", ndmin=2)[:50]
    expected = np.loadtxt(source / "tb_data" / "tb_output_predictions.dat", ndmin=2)[:50]
    assert np.array_equal(translation.hls_model.predict(np.ascontiguousarray(inputs)), expected)


def test_sized_fifos_are_written_with_the_priced_depths(exported: tuple) -> None:
    """``fifo_depths: sized``: every FIFO the cost model shortened has that depth in the written code."""
    from cost_models.analytical import AnalyticalModel
    from cost_models.analytical.stream import stream_tokens

    _, results = exported
    result = next(r for r in results if r.design_id == "cnn_stream_sized_fifos")
    manifest = json.loads((result.project_dir / "manifest.json").read_text())
    depths = manifest["hls4ml"]["fifo_depths"]
    assert depths, "the sized design should shorten some FIFOs"
    source = (result.project_dir / "firmware" / "myproject.cpp").read_text()
    for name, depth in depths.items():
        assert f"#pragma HLS STREAM variable={name} depth={depth}" in source
    design = next(r for r in results if r.design_id == "cnn_stream_latency")
    full = json.loads((design.project_dir / "manifest.json").read_text())["hls4ml"]["fifo_depths"]
    assert full == {}  # hls4ml's default depths: nothing changed
    graph, hw = _design_of(result.project_dir)
    priced = AnalyticalModel().fifo_depths(graph, hw)
    shortened = [d for name, d in priced.items() if d != stream_tokens(graph.layer(name).output_shape)]
    assert sorted(depths.values()) == sorted(shortened)
    assert result.verification.bit_exact_mismatches == 0


def _design_of(project: Path):
    from cost_models.ir import LayerGraph
    from hw_templates.config import HardwareConfig

    manifest = json.loads((project / "manifest.json").read_text())
    return LayerGraph.from_dict(manifest["design"]["graph"]), HardwareConfig.from_dict(manifest["design"]["hardware"])


def test_multiplier_impl_is_written_into_the_build_script_as_priced(exported: tuple) -> None:
    """``multiplier_impl: fabric`` (priced as LUT multipliers) is Vitis HLS's ``config_op mul -impl fabric``."""
    _, results = exported
    fabric = next(r for r in results if r.design_id == "cnn_parallel_resource")
    script = (fabric.project_dir / "build_prj.tcl").read_text()
    assert script.count("config_op mul -impl fabric") == 1
    assert script.index("config_schedule") < script.index("config_op mul") < script.index("csynth_design")
    assert fabric.manifest["hls4ml"]["multiplier_directive"] == "config_op mul -impl fabric"
    assert fabric.verification.bit_exact_mismatches == 0
    auto = next(r for r in results if r.design_id == "cnn_stream_latency")
    assert "config_op mul" not in (auto.project_dir / "build_prj.tcl").read_text()
    assert auto.manifest["hls4ml"]["multiplier_directive"] is None
