"""Frontends: spec -> graph, traced module -> graph and exported QONNX -> graph agree on the same network."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import optuna
import pytest
import torch
from brevitas.export import export_qonnx
from torch import nn

from codesign.models.arch import ArchSpec
from codesign.models.builder import build_model, to_torch_layout
from codesign.models.frontends import DEFAULT_TYPE, graph_from_module, graph_from_onnx
from codesign.models.spaces import get_space, list_spaces
from cost_models.ir import Layer, LayerGraph, LayerKind
from hw_templates.errors import SpecError, UnsupportedLayerError

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sig(layer: Layer) -> tuple:
    """Everything but names: kind, shapes, sizes, function, and every precision's width/integer/sign."""
    types = (layer.precision.result, layer.precision.weight, layer.precision.bias)
    bits = tuple((t.width, t.integer, t.signed) if t else None for t in types)
    sizes = (layer.units, layer.filters, layer.kernel, layer.stride, layer.pool, layer.padding, layer.use_bias)
    return (layer.kind.value, layer.input_shape, layer.output_shape, sizes, layer.function, bits)


def _structure(graph: LayerGraph) -> Counter:
    """Layer signatures with their inputs' signatures: equal for equal networks, whatever the order."""
    by_name = {x.name: x for x in graph.layers}
    return Counter((_sig(x), tuple(sorted(_sig(by_name[i]) for i in x.inputs))) for x in graph.layers)


def _three_graphs(spec: ArchSpec, shape: tuple[int, ...], tmp_path: Path) -> tuple[LayerGraph, ...]:
    graph = spec.to_graph(shape)
    model = build_model(graph).eval()
    sample = to_torch_layout(torch.zeros(1, *shape))
    export_qonnx(model, sample, str(tmp_path / "m.onnx"), dynamo=False)
    return graph, graph_from_module(model, sample), graph_from_onnx(tmp_path / "m.onnx")


def test_reference_networks_agree_layer_by_layer(mlp_arch: ArchSpec, cnn_arch: ArchSpec, tmp_path: Path) -> None:
    for spec, shape in ((mlp_arch, (64,)), (cnn_arch.with_bits(act_bits=3), (8, 8, 1))):
        graph, traced, onnx = _three_graphs(spec, shape, tmp_path)
        assert [_sig(x) for x in traced] == [_sig(x) for x in graph]
        assert [_sig(x) for x in onnx] == [_sig(x) for x in graph]
        assert [x.name for x in traced] == [x.name for x in graph]  # tracing keeps the module (IR) names


@pytest.mark.parametrize("name", list_spaces())
def test_space_samples_agree_across_the_three_frontends(name: str, tmp_path: Path) -> None:
    space = get_space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=11))
    for _ in range(3):
        trial = study.ask()
        graph, traced, onnx = _three_graphs(space.sample(trial), space.input_shape, tmp_path)
        study.tell(trial, 0.0)
        assert _structure(traced) == _structure(graph)
        assert _structure(onnx) == _structure(graph)


def test_a_plain_torch_model_gets_hls4ml_default_types() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10), nn.Softmax(dim=1))
    graph = graph_from_module(model, torch.zeros(2, 64))
    assert [x.kind for x in graph] == [
        LayerKind.INPUT,
        LayerKind.FLATTEN,
        LayerKind.DENSE,
        LayerKind.ACTIVATION,
        LayerKind.DENSE,
        LayerKind.ACTIVATION,
    ]
    assert graph.layer("1").precision.weight == DEFAULT_TYPE
    assert graph.output.output_shape == (10,)


def test_modules_outside_the_ir_are_named_in_the_error() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.GELU())
    with pytest.raises(UnsupportedLayerError, match=r"'1' \(GELU\)"):
        graph_from_module(model, torch.zeros(1, 8))


def test_onnx_file_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        graph_from_onnx(tmp_path / "absent.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(SpecError, match="cannot read"):
        graph_from_onnx(bad)


@pytest.mark.filterwarnings("ignore:The GemmToMatMul transformation:UserWarning")
def test_graph_precisions_are_what_hls4ml_infers(cnn_arch: ArchSpec, tmp_path: Path) -> None:
    """Oracle: convert the exported QONNX with hls4ml and read back every layer's types."""
    hls4ml = pytest.importorskip("hls4ml")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    from codesign.models.fold import without_batchnorm

    graph = without_batchnorm(cnn_arch.to_graph((8, 8, 1)))
    model = build_model(graph).eval()
    export_qonnx(model, to_torch_layout(torch.zeros(1, 8, 8, 1)), str(tmp_path / "m.onnx"), dynamo=False)
    wrapper = cleanup_model(ModelWrapper(str(tmp_path / "m.onnx")))
    wrapper = cleanup_model(wrapper.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
    config = hls4ml.utils.config.config_from_onnx_model(wrapper, granularity="name", backend="Vitis")
    # the exporter's one duty (STACK.md): the input layer's type is the input quantizer's
    input_type = graph.layers[0].precision.result.to_hls().replace("ap_", "").replace("AP_", "")
    config["LayerName"][next(iter(config["LayerName"]))]["Precision"]["result"] = input_type
    hls = hls4ml.converters.convert_from_onnx_model(
        wrapper, hls_config=config, backend="Vitis", output_dir=str(tmp_path / "prj"), io_type="io_parallel"
    )
    inferred = [(layer.class_name, str(layer.get_output_variable().type.precision)) for layer in hls.get_layers()][
        1:
    ]  # hls4ml's input type comes from the exporter's config, not from inference
    expected = [x.precision.result for x in graph.layers[1:]]
    assert len(inferred) == len(expected)
    for (cls, got), want in zip(inferred, expected):
        width_int = f"<{want.width},{want.integer}"
        assert width_int in got and got.startswith("ufixed" if not want.signed else "fixed"), (cls, got, want)


class _UserModel(nn.Module):
    """A Brevitas model written by hand: learned power-of-two scales and Int16Bias (STACK.md's recipe)."""

    def __init__(self) -> None:
        from brevitas import nn as qnn
        from brevitas.quant.fixed_point import Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint
        from brevitas.quant.scaled_int import Int16Bias

        super().__init__()
        act, weight = Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint
        self.inp = qnn.QuantIdentity(act_quant=act, return_quant_tensor=True)
        self.fc = qnn.QuantLinear(16, 8, bias=True, weight_quant=weight, bias_quant=Int16Bias)
        self.act = qnn.QuantReLU(act_quant=act, return_quant_tensor=True)
        self.out = qnn.QuantLinear(8, 4, bias=True, weight_quant=weight, bias_quant=Int16Bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.fc(self.inp(x))))


def test_a_hand_written_brevitas_model_reads_the_same_both_ways(tmp_path: Path) -> None:
    model = _UserModel().train()
    model(torch.randn(64, 16))  # let the learned scales settle
    model.eval()
    traced = graph_from_module(model, torch.zeros(1, 16))
    export_qonnx(model, torch.zeros(1, 16), str(tmp_path / "u.onnx"), dynamo=False)
    assert [_sig(x) for x in graph_from_onnx(tmp_path / "u.onnx")] == [_sig(x) for x in traced]
    fc = traced.layer("fc")
    assert fc.precision.weight.width == 8 and fc.precision.bias.width == 16
    # Int16Bias: bias LSB = input LSB x weight LSB
    lsb = lambda t: t.integer - t.width  # noqa: E731
    assert lsb(fc.precision.bias) == lsb(traced.layer("input").precision.result) + lsb(fc.precision.weight)


def test_adaptive_pooling_to_one_position_reads_as_global_pooling() -> None:
    import torch
    from torch import nn

    from codesign.models.frontends import graph_from_module

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    graph = graph_from_module(model, torch.zeros(2, 1, 8, 8))
    kinds = [x.kind.value for x in graph.layers]
    assert "global_avgpool2d" in kinds and graph.output.output_shape == (3,)
    pooled = next(x for x in graph.layers if x.kind.value == "global_avgpool2d")
    assert pooled.input_shape == (6, 6, 4) and pooled.output_shape == (4,)
