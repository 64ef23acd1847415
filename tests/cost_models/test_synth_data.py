"""The synthesis-results reader: real calibration rows (skipped when the data is absent) and small CSVs
written here to exercise errors."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cost_models._synth_rows import activation_from_name
from cost_models.cost import Target
from cost_models.ir import Activation, LayerGraph, LayerKind
from cost_models.synth_data import (
    MEASURED_KEYS,
    SynthRecord,
    default_synth_dir,
    load_synth_dir,
    read_synth_csv,
)
from hw_templates.config import IoType, MultiplierImpl, Strategy
from hw_templates.errors import CalibrationError
from hw_templates.reuse import is_valid_reuse_factor

# records, skipped per file, established by reading every row (see the reader's module docs).
# Skips left: wa-hls4ml conv2d (conv layers unknown), Keb-L
# rows without a reuse factor (+1 copied report), Alezander9 CNNs concatenating a second model input.
EXPECTED_COUNTS = {
    "alezander9_ml_fpgaonpixel.csv": (11, 4),
    "argykokk_hls4ml_mlp_estimator.csv": (36, 0),
    "cestmerneil_fpga_accelerator4nn_inference.csv": (6, 0),
    "ftsipis_arrhythmia_detection_fpga_hls4ml.csv": (32, 0),
    "gabriele_bot_pynq_ia.csv": (5, 0),
    "karlis_susters_hls4ml_vs_verilog.csv": (6, 0),
    "kebl_hls4ml_data.csv": (14, 33),
    "lrozzy_hls4ml_openml.csv": (5, 0),
    "misc_small_hls4ml_sources.csv": (23, 0),
    "nicologhielmetti_hls4ml_pynq.csv": (8, 0),
    "ntorc_layer_costs.csv": (416, 0),
    "uw_acme_hls4ml_neutdetector.csv": (5, 0),
    "wa_hls4ml_jdweitz_sample.csv": (537, 42),
}


@functools.cache
def _read(path: Path) -> tuple[list[SynthRecord], list]:
    return read_synth_csv(path)


def _record(folder: Path, name: str, line: int) -> SynthRecord:
    records, _ = _read(folder / name)
    return next(r for r in records if r.file == f"{name}:{line}")


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_every_file_gives_the_established_record_and_skip_counts(calibration_path: Path, name: str) -> None:
    records, skipped = _read(calibration_path / name)
    assert (len(records), len(skipped)) == EXPECTED_COUNTS[name]
    assert all(s.reason.strip() and s.file.startswith(f"{name}:") for s in skipped)


def test_every_row_of_every_file_is_read_or_skipped_with_a_reason(calibration_path: Path) -> None:
    # Files land in the folder over time: every CSV there, known above or not, is read without raising.
    for path in sorted(calibration_path.glob("*.csv")):
        records, skipped = _read(path)
        with path.open(newline="", encoding="utf-8") as handle:
            rows = sum(1 for _ in csv.DictReader(handle))
        assert len(records) + len(skipped) == rows, path.name
        assert all(s.reason.strip() and "\n" not in s.reason for s in skipped), path.name
        assert not any("starting with a dense layer" in s.reason for s in skipped), path.name


def test_records_are_complete_and_consistent(calibration_path: Path) -> None:
    records, _ = load_synth_dir(calibration_path)
    assert len(records) >= sum(n for n, _ in EXPECTED_COUNTS.values())
    for r in records:
        assert r.measured and set(r.measured) <= set(MEASURED_KEYS), r.file
        assert all(v >= 0 for v in r.measured.values()), r.file
        assert (r.target is Target.HLS) == (r.result_kind == "csynth"), r.file
        assert r.graph.weight_layers(), r.file
        assert LayerGraph.from_json(r.graph.to_json()) == r.graph, r.file


def test_skip_reasons_name_the_cause(calibration_path: Path) -> None:
    reasons = {s.reason for name in EXPECTED_COUNTS for s in _read(calibration_path / name)[1]}
    assert any("conv2d rows only describe the dense tail" in r for r in reasons)
    assert any(r.startswith("reuse_factor: not recorded") for r in reasons)


def test_argykokk_row_matches_the_csv(calibration_path: Path) -> None:
    # Line 2: ARRYTHMIA, DSP_reuse1 (values read by hand from the CSV).
    r = _record(calibration_path, "argykokk_hls4ml_mlp_estimator.csv", 2)
    dense = r.graph.weight_layers()
    assert [(x.n_inputs, x.units) for x in dense] == [(274, 8), (8, 16)]
    assert dense[0].sparsity == pytest.approx(924 / (274 * 8))
    assert [x.function for x in r.graph if x.kind is LayerKind.ACTIVATION] == [Activation.RELU, Activation.SOFTMAX]
    assert (
        str(dense[0].precision.weight) == "ap_fixed<8,2>" and str(r.graph.layers[0].precision.result) == "ap_fixed<8,2>"
    )
    assert r.hw.reuse_factor == 1 and r.hw.part.name == "xc7z007s" and r.hw.clock_ns == 3.33
    assert r.mul_impl == "dsp" and r.result_kind == "csynth" and not r.per_layer
    assert r.hw.multiplier_impl is MultiplierImpl.DSP
    assert dict(r.measured) == {
        "lut": 31704, "ff": 34282, "dsp": 177, "bram18": 16, "uram": 0, "latency_cycles": 40, "ii_cycles": 1,
    }  # fmt: skip


def test_kebl_rows_match_the_csv(calibration_path: Path) -> None:
    # Line 2: core/model4 csynth, RF 2; line 7: core/model8 vsynth (60.5 BRAM36 tiles).
    r = _record(calibration_path, "kebl_hls4ml_data.csv", 2)
    assert [x.filters for x in r.graph if x.kind is LayerKind.CONV2D] == [4, 8, 8]
    assert [(x.n_inputs, x.units) for x in r.graph if x.kind is LayerKind.DENSE] == [(128, 8)]
    # latency_analysis rows leave the strategy empty; their BRAM (weight ROMs) and DSPs say Resource
    assert r.hw.reuse_factor == 2 and r.hw.io_type is IoType.STREAM and r.hw.strategy is Strategy.RESOURCE
    assert not any("strategy not recorded" in n for n in r.notes)
    assert (r.measured["lut"], r.measured["dsp"], r.measured["latency_cycles"]) == (64927, 1068, 3300)
    vsynth = _record(calibration_path, "kebl_hls4ml_data.csv", 7)
    assert vsynth.target is Target.SYNTH and vsynth.measured["bram18"] == 121
    _, skipped = _read(calibration_path / "kebl_hls4ml_data.csv")
    assert any(s.file == "kebl_hls4ml_data.csv:3" and "copy" in s.reason for s in skipped)


def test_ntorc_row_matches_the_csv(calibration_path: Path) -> None:
    # Line 2: conv1d_in1_seq128_sz16_rf1.
    r = _record(calibration_path, "ntorc_layer_costs.csv", 2)
    (conv,) = r.graph.weight_layers()
    assert conv.kind is LayerKind.CONV1D and conv.input_shape == (128, 1) and conv.output_shape == (128, 16)
    assert conv.kernel == (3,) and conv.padding == "same"
    assert r.per_layer and r.hw.reuse_factor == 1 and r.hw.part.name == "xczu7ev"
    assert (r.measured["lut"], r.measured["dsp"], r.measured["latency_cycles"]) == (9867, 26, 135)
    assert "ii_cycles" not in r.measured and "uram" not in r.measured


def test_wa_row_matches_the_csv(calibration_path: Path) -> None:
    # Line 2: dense_80_24_120_6b_rf1024; RF 1024 is illegal for 80x24 and 24x120, hls4ml uses 960.
    r = _record(calibration_path, "wa_hls4ml_jdweitz_sample.csv", 2)
    dense = r.graph.weight_layers()
    assert [(x.n_inputs, x.units) for x in dense] == [(80, 24), (24, 120)]
    assert str(dense[0].precision.weight) == "ap_fixed<6,1>"
    assert r.hw.reuse_factor == 1024 and [r.hw.resolve(x.name).reuse_factor for x in dense] == [960, 960]
    assert r.result_kind == "vsynth" and any("latency from csynth" in n for n in r.notes)
    assert (r.measured["lut"], r.measured["dsp"], r.measured["latency_cycles"], r.measured["bram18"]) == (
        15596, 0, 1925, 2,
    )  # fmt: skip
    assert "ii_cycles" not in r.measured


def test_wa_layers_get_legal_reuse_factors(calibration_path: Path) -> None:
    records, _ = _read(calibration_path / "wa_hls4ml_jdweitz_sample.csv")
    for r in records:
        for layer in r.graph.weight_layers():
            assert is_valid_reuse_factor(layer.n_inputs, layer.units, r.hw.resolve(layer.name).reuse_factor)


# --- small CSVs written by the tests -------------------------------------------------------------
COLUMNS = [
    "source",
    "model_id",
    "result_kind",
    "arch_json",
    "layer_summary",
    "precision",
    "weight_precision",
    "reuse_factor",
    "strategy",
    "io_type",
    "fpga_part",
    "clock_period_ns",
    "hls_tool",
    "hls_version",
    "LUT",
    "FF",
    "DSP",
    "BRAM18",
    "latency_cycles_max",
    "II_max",
    "notes",
]
ARCH = (
    '[{"name":"fc1","kind":"dense","n_in":4,"n_out":3,"reuse_factor":1,"n_zeros":6},'
    '{"name":"relu1","kind":"activ","n_in":3}]'
)
ROW = {
    "source": "test/synthetic", "model_id": "m1", "result_kind": "csynth", "arch_json": ARCH,
    "layer_summary": "Dense(4->3) | Act[relu1](3)", "precision": "input=ap_fixed<8,3>;result=ap_fixed<12,4>",
    "weight_precision": "ap_fixed<6,1>", "reuse_factor": "1", "strategy": "latency", "io_type": "io_parallel",
    "fpga_part": "xczu9eg-ffvb1156-2-e", "clock_period_ns": "5", "hls_tool": "Vitis HLS", "hls_version": "2022.2",
    "LUT": "100", "FF": "50", "DSP": "3", "BRAM18": "0", "latency_cycles_max": "4", "II_max": "1", "notes": "",
}  # fmt: skip


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_written_row_becomes_a_record(tmp_path: Path) -> None:
    (r,), skipped = read_synth_csv(_write(tmp_path / "ok.csv", [ROW]))
    assert not skipped and r.file == "ok.csv:2" and r.hw.part.name == "xczu9eg"
    assert r.graph.weight_layers()[0].sparsity == pytest.approx(0.5)
    assert dict(r.measured) == {"lut": 100, "ff": 50, "dsp": 3, "bram18": 0, "latency_cycles": 4, "ii_cycles": 1}


def test_missing_column_raises_calibration_error_naming_file_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.csv", [ROW], [c for c in COLUMNS if c != "DSP"])
    with pytest.raises(CalibrationError, match=r"short\.csv.*'DSP'"):
        read_synth_csv(path)


def test_missing_file_raises_calibration_error(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="not found"):
        read_synth_csv(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"LUT": "12k"}, "LUT: expected a number"),
        ({"fpga_part": "xc9zz999-1"}, "part: expected a known FPGA part"),
        ({"arch_json": "[{"}, "arch_json: not valid JSON"),
        ({"arch_json": ARCH.replace('"n_in":3', '"n_in":5')}, "fits no earlier layer"),
        (
            {"arch_json": ARCH.replace("relu1", "act9"), "layer_summary": "Dense(4->3) | Act[act9](3)"},
            "cannot be known",
        ),
        ({"precision": "ap_fixed<8,3>"}, "precision"),
        ({"LUT": "", "FF": "", "DSP": "", "BRAM18": "", "latency_cycles_max": "", "II_max": ""}, "empty"),
    ],
)
def test_a_malformed_cell_skips_only_its_row(tmp_path: Path, change: dict[str, str], reason: str) -> None:
    records, skipped = read_synth_csv(_write(tmp_path / "bad.csv", [ROW, {**ROW, **change}]))
    assert len(records) == 1 and len(skipped) == 1
    assert skipped[0].file == "bad.csv:3" and skipped[0].model_id == "m1" and reason in skipped[0].reason


def test_relu_is_taken_from_the_layer_summary_when_the_name_is_silent(tmp_path: Path) -> None:
    row = {**ROW, "arch_json": ARCH.replace("relu1", "act9"), "layer_summary": "Dense(4->3) | act9: ReLU(3)"}
    (r,), _ = read_synth_csv(_write(tmp_path / "summary.csv", [row]))
    assert r.graph.layer("act9").function is Activation.RELU


@given(st.sampled_from(list(Activation)), st.integers(min_value=0, max_value=99))
def test_numbered_activation_names_map_to_their_function(function: Activation, number: int) -> None:
    assert activation_from_name(f"{function.value}{number}", "") is function
    assert activation_from_name(f"{function.value}_{number}", "") is function


def test_default_dir_follows_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESIGN_CALIBRATION_DIR", str(tmp_path))
    assert default_synth_dir() is None
    with pytest.raises(CalibrationError, match="calibration folder"):
        load_synth_dir()
    _write(tmp_path / "one.csv", [ROW])
    assert default_synth_dir() == tmp_path
    records, skipped = load_synth_dir()
    assert len(records) == 1 and not skipped


def test_load_synth_dir_rejects_a_folder_without_csv(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"\*\.csv"):
        load_synth_dir(tmp_path)


CNN_ARCH = (
    '[{"name":"zp","kind":"zeropad","in_width":16,"n_chan":2,"out_width":18,"pad_left":1,"pad_right":1,'
    '"out_t":"ap_fixed<8,3>"},'
    '{"name":"c1","kind":"conv1d","in_width":18,"n_chan":2,"filt_width":3,"n_filt":4,"stride_width":1,'
    '"pad_left":0,"pad_right":0,"out_width":16,"reuse_factor":3,"strategy":"resource","n_zeros":6,'
    '"implementation":"encoded","weight_t":"ap_fixed<6,2>","out_t":"ap_fixed<20,8>"},'
    '{"name":"c1_relu","kind":"activ","function":"relu","n_in":64,"out_t":"ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"},'
    '{"name":"pool","kind":"pooling1d","pool_op":"Max","n_in":16,"n_filt":4,"pool_width":2,"stride_width":2,'
    '"n_out":8,"out_t":"ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"},'
    '{"name":"h_quantize_1","kind":"h_quantize_1"},'
    '{"name":"fc","kind":"dense","n_in":32,"n_out":5,"reuse_factor":1,"strategy":"latency","weight_t":"ap_fixed<4,1>",'
    '"out_t":"ap_fixed<100,40>"},'
    '{"name":"head2","kind":"dense","n_in":32,"n_out":2,"reuse_factor":1,"strategy":"latency",'
    '"weight_t":"ap_fixed<4,1>"}]'
)


def test_a_streamed_cnn_row_with_per_layer_types_becomes_a_record(tmp_path: Path) -> None:
    row = {**ROW, "arch_json": CNN_ARCH, "io_type": "io_stream", "reuse_factor": "mixed", "strategy": "mixed",
           "weight_precision": "ap_fixed<6,2>;ap_fixed<4,1>", "hls_version": "2019.2", "hls_tool": "Vivado HLS",
           "clock_period_ns": "10", "clock_uncertainty_ns": "1.25"}  # fmt: skip
    (r,), skipped = read_synth_csv(_write(tmp_path / "cnn.csv", [row], COLUMNS + ["clock_uncertainty_ns"]))
    assert not skipped
    g, hw = r.graph, r.hw
    assert g.input_shape == (16, 2) and g.layer("zp").output_shape == (18, 2)
    conv = g.layer("c1")
    assert conv.kind is LayerKind.CONV1D and conv.output_shape == (16, 4) and conv.sparsity == pytest.approx(6 / 24)
    assert str(conv.precision.weight) == "ap_fixed<6,2>" and str(conv.precision.result) == "ap_fixed<20,8>"
    relu = g.layer("c1_relu").precision.result
    assert (relu.rounding, relu.saturation, relu.signed) == ("RND_CONV", "SAT", False)
    assert g.layer("pool").kind is LayerKind.MAXPOOL1D and g.layer("pool").output_shape == (8, 4)
    assert g.layer("h_quantize_1").function is Activation.LINEAR
    assert g.layer("fc").inputs == ("fc_flatten",) and g.layer("fc").precision.result.width == 100
    assert g.layer("head2").inputs == ("fc_flatten",)  # a second head on the same tensor
    assert hw.reuse_factor == 3 and hw.strategy is Strategy.RESOURCE and hw.resolve("fc").reuse_factor == 1
    assert hw.resolve("fc").strategy is Strategy.LATENCY and hw.resolve("c1").conv_implementation.value == "encoded"
    assert (hw.tool_version, hw.clock_ns, hw.clock_uncertainty_ns, hw.io_type) == ("2019.2", 10, 1.25, IoType.STREAM)


def test_a_concat_whose_inputs_are_unrecorded_is_skipped_with_its_reason(tmp_path: Path) -> None:
    arch = ARCH[:-1] + ',{"name":"cat","kind":"concat"}]'
    _, (skip,) = read_synth_csv(_write(tmp_path / "cat.csv", [{**ROW, "arch_json": arch}]))
    assert "'cat' (concat): the row does not record which tensors it joins" in skip.reason
