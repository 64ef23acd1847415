"""The hls4ml configuration, conversion and read-back (no C compile: each conversion takes ~0.1 s)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from export_cases import CNN, MLP, hardware
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign.export._qonnx import LayerMap, clean_qonnx, export_qonnx, input_precision, map_layers
from codesign.export.translate import hls4ml_config, translate
from codesign.models.builder import build_model
from hw_templates.config import Backend
from hw_templates.errors import ExportError
from hw_templates.reuse import closest_valid_reuse_factor, is_valid_reuse_factor


def _cleaned(spec, shape: tuple[int, ...], torch_shape: tuple[int, ...], folder: Path) -> tuple:
    torch.manual_seed(0)
    graph = spec.to_graph(shape)
    export_qonnx(build_model(graph).eval(), torch_shape, folder / "raw.onnx")
    return graph, clean_qonnx(folder / "raw.onnx", folder / "clean.onnx"), folder / "clean.onnx"


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return _cleaned(MLP, (64,), (64,), tmp_path_factory.mktemp("mlp"))


@pytest.fixture(scope="module")
def cnn(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return _cleaned(CNN, (8, 8, 1), (1, 8, 8), tmp_path_factory.mktemp("cnn"))


def test_config_speaks_hls4ml_from_the_hardware_configuration(mlp: tuple, tmp_path: Path) -> None:
    graph, model, path = mlp
    hw = hardware("io_stream", "resource", 2).with_layer("fc2", reuse_factor=5)
    config = hls4ml_config(
        model, graph, hw, map_layers(model, graph), input_precision(model),
        onnx_path=path, output_dir=tmp_path, backend=Backend.VITIS,
    )  # fmt: skip
    assert config["Backend"] == "Vitis" and config["Part"] == "xcu250-figd2104-2L-e"
    assert config["ClockPeriod"] == 5.0 and config["IOType"] == "io_stream"
    assert config["ClockUncertainty"] == f"{hw.effective_clock_uncertainty_ns:g}"
    assert config["HLSConfig"]["Model"]["Strategy"] == "Resource"
    layers = config["HLSConfig"]["LayerName"]
    assert layers["MatMul_0"]["ReuseFactor"] == 2 and layers["MatMul_1"]["ReuseFactor"] == 5
    assert layers["global_in"]["Precision"]["result"] == "fixed<8,3,RND_CONV,SAT>"


def test_layers_map_back_to_the_design(cnn: tuple) -> None:
    graph, model, _ = cnn
    layer_map = map_layers(model, graph)
    assert dict(layer_map.onnx_to_ir) == {
        "global_in": "input", "Conv_0": "conv1", "Conv_1": "conv2", "MatMul_0": "fc1",
        "Relu_0": "relu1", "Relu_1": "relu2", "MaxPool_0": "pool1",
    }  # fmt: skip
    assert layer_map.ir_name("Conv2D_Conv_1") == "conv2" and layer_map.ir_name("Transpose_0") is None


def test_input_precision_equals_the_input_quantizer(mlp: tuple) -> None:
    graph, model, _ = mlp
    got, want = input_precision(model), graph.layers[0].precision.result
    assert (got.width, got.integer, got.signed, got.rounding) == (want.width, want.integer, want.signed, "RND_CONV")


@pytest.mark.parametrize("backend", list(Backend))
def test_every_backend_applies_the_designs_reuse_factor_and_strategy(backend: Backend, mlp: tuple, tmp_path: Path):
    graph, _, path = mlp
    translation = translate(path, graph, hardware("io_parallel", "resource", 2), tmp_path, backend=backend)
    applied = {a.ir_name: a for a in translation.applied if a.ir_name in ("fc1", "fc2")}
    assert [(a.reuse_factor, a.strategy) for a in applied.values()] == [(2, "resource"), (2, "resource")]
    assert translation.hls_model.config.get_config_value("Backend").lower() == backend.value


def test_quartus_refuses_a_latency_design_and_says_why(mlp: tuple, tmp_path: Path) -> None:
    graph, _, path = mlp
    with pytest.raises(ExportError, match="Quartus builds dense/conv layers with the resource strategy only"):
        translate(path, graph, hardware("io_parallel", "latency", 1), tmp_path, backend=Backend.QUARTUS)


def test_an_illegal_conv_reuse_factor_names_the_legal_ones(cnn: tuple, tmp_path: Path) -> None:
    graph, _, path = cnn
    with pytest.raises(ExportError, match=r"'conv1'.*reuse_factor 1 \(design: 2; legal for this 9x4 layer near it"):
        translate(path, graph, hardware("io_stream", "resource", 2), tmp_path)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rf=st.integers(min_value=1, max_value=64 * 16))
def test_a_reuse_factor_is_kept_exactly_when_legal_and_refused_otherwise(rf: int, mlp: tuple, tmp_path: Path):
    """Oracle: hls4ml's own snapping agrees with hw_templates' rule; translate never lets it pass silently."""
    graph, _, path = mlp
    hw = hardware("io_parallel", "resource", 1).with_layer("fc1", reuse_factor=rf)
    if is_valid_reuse_factor(64, 16, rf):
        applied = {a.ir_name: a for a in translate(path, graph, hw, tmp_path).applied}
        assert applied["fc1"].reuse_factor == rf
    else:
        snap = closest_valid_reuse_factor(64, 16, rf)
        with pytest.raises(ExportError, match=rf"'fc1'.*applied reuse_factor {snap} \(design: {rf};"):
            translate(path, graph, hw, tmp_path)


def test_layer_map_names_hls4ml_layers_by_their_onnx_node() -> None:
    layer_map = LayerMap({"MatMul_0": "fc1", "Relu_0": "relu1"})
    assert layer_map.ir_name("Dense_MatMul_0") == "fc1" and layer_map.ir_name("Relu_0") == "relu1"
    assert layer_map.ir_name("Dense_MatMul_7") is None and layer_map.nodes_of("fc1") == ("MatMul_0",)


def test_a_truncating_input_quantizer_gives_a_truncating_input_type(tmp_path: Path) -> None:
    """The C model must round its input as the Brevitas input quantizer does (FLOOR -> TRN, ROUND -> RND_CONV)."""
    from codesign.spec import design_spec_from_dict

    precision = {"accum": "ap_fixed<36,16>", "result": "ap_fixed<16,6,AP_TRN,AP_SAT>"}
    layers = [{"type": "dense", "units": 4, "precision": precision}]
    graph = design_spec_from_dict({"input_shape": [8], "precision": "ap_fixed<16,6>", "layers": layers}).graph
    export_qonnx(build_model(graph).eval(), (8,), tmp_path / "raw.onnx")
    model = clean_qonnx(tmp_path / "raw.onnx", tmp_path / "clean.onnx")
    got = input_precision(model)
    assert (got.width, got.integer, got.rounding, got.saturation) == (16, 6, "TRN", "SAT")


@pytest.mark.parametrize(("dims", "shape", "torch_shape"), [(2, (8, 8, 1), (1, 8, 8)), (1, (16, 4), (4, 16))])
def test_parallel_branches_of_different_depth_map_back_to_their_own_layers(
    dims: int, shape: tuple, torch_shape: tuple, tmp_path: Path
) -> None:
    """A cell whose third node reads the cell input while the second sits deeper: qonnx's SortGraph moves
    the shallow branch's convolution ahead; the pairing follows the nodes' Brevitas modules instead."""
    from codesign.models.arch import ArchSpec
    from codesign.models.cell_spaces import _Bits, _head, _stem, cell_layers

    bits = _Bits(6, 6)
    cell, _ = cell_layers((("conv3", 0), ("dwconv3", 1), ("conv1", 0)), "stem_relu", "c0_", dims, 4, bits)
    spec = ArchSpec("cell", tuple(_head([*_stem("stem", "input", dims, 4, bits), *cell], 10, 6)))
    graph, model, _ = _cleaned(spec, shape, torch_shape, tmp_path)
    layer_map = map_layers(model, graph)  # raised "does not implement this layer graph" before
    convs = {layer_map.ir_name(n.name): n for n in model.graph.node if n.op_type == "Conv"}
    groups = {name: next((a.i for a in n.attribute if a.name == "group"), 1) for name, n in convs.items()}
    assert groups == {"stem": 1, "c0_n1": 1, "c0_n2": 4, "c0_n3": 1}  # the depthwise one is c0_n2
    kernels = {name: list(next(a.ints for a in n.attribute if a.name == "kernel_shape")) for name, n in convs.items()}
    assert kernels["c0_n3"] == [1] * dims and kernels["c0_n1"] == [3] * dims
    # each activation is paired with the one that follows its own convolution (through its producer)
    conv_out = {n.output[0]: name for name, n in convs.items()}
    relus = [n for n in model.graph.node if n.op_type == "Relu" and n.input[0] in conv_out]
    assert {layer_map.ir_name(n.name): conv_out[n.input[0]] for n in relus} == {
        f"{conv}_relu": conv for conv in ("stem", "c0_n1", "c0_n2", "c0_n3")
    }
