"""build_model: quantizers exactly where the graph says, IR names, batchnorm folding, clear refusals."""

from __future__ import annotations

import pytest
import torch

from codesign.models.arch import KIND_COVERAGE as ARCH_COVERAGE
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import SUPPORTED_KINDS, build_model, to_torch_layout
from codesign.models.fold import fold_batchnorm, without_batchnorm
from cost_models.ir import GraphBuilder, LayerKind, LayerPrecision
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType


def _on_grid(values: torch.Tensor, ftype: FixedType) -> bool:
    """True when every value is a multiple of the LSB of ``ftype`` and inside its range."""
    lsb = 2.0 ** (ftype.integer - ftype.width)
    ints = values / lsb
    low = -(2 ** (ftype.width - 1)) if ftype.signed else 0
    high = 2 ** (ftype.width - 1) - 1 if ftype.signed else 2**ftype.width - 1
    return bool(torch.all(ints == torch.round(ints)) and ints.min() >= low and ints.max() <= high)


def test_submodules_carry_the_ir_layer_names(cnn_arch: ArchSpec) -> None:
    graph = cnn_arch.to_graph((8, 8, 1))
    model = build_model(graph)
    assert [name for name, _ in model.named_children()] == [x.name for x in graph.layers]
    out = model(to_torch_layout(torch.randn(3, 8, 8, 1)))
    assert tuple(out.shape) == (3, 10)


def test_inputs_weights_biases_and_activations_lie_on_the_graph_types(mlp_arch: ArchSpec) -> None:
    graph = mlp_arch.to_graph((64,))
    torch.manual_seed(0)
    model = build_model(graph).eval()
    x = torch.randn(16, 64) * 3
    assert _on_grid(model.input(x), graph.layer("input").precision.result)
    for name in ("fc1", "fc2"):
        layer = graph.layer(name)
        assert _on_grid(getattr(model, name).quant_weight().value, layer.precision.weight)
        assert _on_grid(getattr(model, name).quant_bias().value, layer.precision.bias)
    hidden = model.relu1(model.fc1(model.input(x)))
    assert _on_grid(hidden, graph.layer("relu1").precision.result)
    # the dense result type is the exact accumulator: its output needs no rounding
    assert _on_grid(model.fc1(model.input(x)), graph.layer("fc1").precision.result)


def test_a_result_narrower_than_the_accumulator_is_rounded_to_it() -> None:
    b = GraphBuilder("narrow", (8,), FixedType(8, 3, rounding="RND_CONV", saturation="SAT"))
    narrow = FixedType(6, 3, rounding="RND_CONV", saturation="SAT")
    # the accumulator is stated (the exact sum): hls4ml then builds it and rounds once, as Brevitas does
    b.add("dense", units=4, precision=LayerPrecision(narrow, FixedType(4, 1), FixedType(8, 3), FixedType(16, 8)))
    model = build_model(b.build()).eval()
    out = model(torch.randn(32, 8) * 4)
    assert _on_grid(out, narrow)
    assert out.abs().max() <= 4


def _one_of_each_kind() -> ArchSpec:
    return ArchSpec(
        "all_kinds",
        (
            ArchLayer("conv1d", name="c1", filters=4, kernel=(3,), padding="same"),
            ArchLayer("batchnorm", name="bn"),
            ArchLayer("activation", name="r1"),
            ArchLayer("depthwise_conv1d", name="dw", kernel=(3,), padding="same"),
            ArchLayer("activation", name="lin", function="linear"),
            ArchLayer("add", name="sum", inputs=("r1", "lin")),
            ArchLayer("concat", name="cat", inputs=("sum", "r1")),
            ArchLayer("maxpool1d", name="mp", pool=(2,)),
            ArchLayer("avgpool1d", name="ap", pool=(2,)),
            ArchLayer("conv1d", name="c2", filters=4, kernel=(1,)),
            ArchLayer("global_maxpool1d", name="gmp", inputs=("c2",)),
            ArchLayer("global_avgpool1d", name="gap", inputs=("c2",)),
            ArchLayer("add", name="head", inputs=("gmp", "gap")),
            ArchLayer("flatten", name="flat"),
            ArchLayer("dense", name="fc", units=3),
        ),
    )


def test_every_supported_kind_builds_and_runs() -> None:
    graph = _one_of_each_kind().to_graph((8, 2))
    kinds = {x.kind for x in graph.layers}
    not_in_arch = set(ARCH_COVERAGE.unsupported)  # upsampling, zero padding: design specs only (below)
    assert kinds >= set(SUPPORTED_KINDS) - {k for k in SUPPORTED_KINDS if k.spatial_dims == 2} - not_in_arch
    model = build_model(graph).eval()
    assert tuple(model(to_torch_layout(torch.randn(5, 8, 2))).shape) == (5, 3)


def test_zero_padding_and_upsampling_follow_the_graph_layout() -> None:
    b = GraphBuilder("g", (3, 4, 2), FixedType(8, 3, True, "RND_CONV", "SAT"))
    b.add("zeropadding2d", name="pad", pad=(1, 0, 0, 2))  # (before, after) for height, then width
    b.add("upsampling2d", name="up", scale=(2, 1))
    graph = b.build()
    x = torch.randint(-8, 8, (1, 3, 4, 2)).float() / 4
    out = build_model(graph).eval()(to_torch_layout(x)).movedim(1, -1)  # back to channels-last
    assert tuple(out.shape[1:]) == graph.output.output_shape == (8, 6, 2)
    padded = torch.zeros(1, 4, 6, 2)
    padded[:, 1:, :4] = x
    assert torch.equal(out, padded.repeat_interleave(2, dim=1))


def test_unsupported_layers_are_refused_naming_the_layer() -> None:
    b = GraphBuilder("g", (8, 8, 2), FixedType(8, 3))
    b.add("reshape", name="re", target_shape=(64, 2))
    with pytest.raises(UnsupportedLayerError, match=r"layer 're' \(reshape\).*supported"):
        build_model(b.build())
    b = GraphBuilder("g", (8,), FixedType(8, 3))
    b.add("activation", name="squash", function="softsign")
    with pytest.raises(UnsupportedLayerError, match=r"'squash'.*softsign.*supported: relu, linear, sigmoid"):
        build_model(b.build())


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.5])
def test_leaky_relu_slope_must_be_exact_in_hardware(alpha: float) -> None:
    b = GraphBuilder("g", (8,), FixedType(8, 3))
    b.add("activation", name="leak", function="leaky_relu", alpha=alpha)
    with pytest.raises(UnsupportedLayerError, match=r"'leak'.*alpha .*multiple of 1/256 in \(0, 1\)"):
        build_model(b.build())


@pytest.mark.parametrize("alpha", [0.0, 0.2, 1 / 6])
def test_hard_sigmoid_slope_must_be_dyadic_so_torch_and_keras_slopes_are_refused(alpha: float) -> None:
    b = GraphBuilder("g", (8,), FixedType(8, 3))
    b.add("activation", name="hs", function="hard_sigmoid", alpha=alpha)
    with pytest.raises(UnsupportedLayerError, match=r"'hs'.*hard_sigmoid alpha .*e.g. 0.25; torch's 1/6 and Keras'"):
        build_model(b.build())


def test_hard_sigmoid_with_a_dyadic_slope_is_clip_of_a_shifted_line() -> None:
    import torch

    b = GraphBuilder("g", (3,), FixedType(8, 3))
    b.add(
        "activation",
        name="hs",
        function="hard_sigmoid",
        alpha=0.25,
        precision=LayerPrecision(FixedType(10, 1, False, "RND_CONV", "SAT")),
    )
    with torch.no_grad():
        out = build_model(b.build()).eval()(torch.tensor([[-3.0, 1.0, 2.5]]))
    assert out.tolist() == [[0.0, 0.75, 1.0]]


def test_sigmoid_tanh_leaky_relu_build_as_function_then_result_quantizer() -> None:
    unsigned, signed = FixedType(8, 1, False, "RND_CONV", "SAT"), FixedType(8, 1, True, "RND_CONV", "SAT")
    b = GraphBuilder("g", (4,), FixedType(8, 3))
    b.add("activation", name="sig", function="sigmoid", precision=LayerPrecision(unsigned))
    b.add("activation", name="th", function="tanh", precision=LayerPrecision(signed))
    b.add("activation", name="lk", function="leaky_relu", alpha=0.125, precision=LayerPrecision(signed))
    model = build_model(b.build()).eval()
    x = torch.tensor([[-3.0, -0.5, 0.25, 2.0]])
    expected = torch.round(torch.tanh(torch.round(torch.sigmoid(x) * 128) / 128) * 128) / 128
    expected = torch.round(torch.nn.functional.leaky_relu(expected, 0.125) * 128) / 128
    assert torch.equal(model(x), expected)


def test_batchnorm_must_follow_a_weighted_layer() -> None:
    spec = ArchSpec("x", (ArchLayer("activation", name="a"), ArchLayer("batchnorm", name="bn")))
    with pytest.raises(UnsupportedLayerError, match=r"'bn'.*directly follow"):
        build_model(spec.to_graph((8,)))


def test_same_padding_with_an_even_kernel_is_refused() -> None:
    spec = ArchSpec("x", (ArchLayer("conv1d", name="c", filters=2, kernel=(2,), padding="same"),))
    with pytest.raises(UnsupportedLayerError, match=r"'c'.*odd kernels"):
        build_model(spec.to_graph((8, 1)))


def test_folding_removes_batchnorm_and_keeps_the_function(cnn_arch: ArchSpec) -> None:
    fine = cnn_arch.with_bits(weight_bits=16, bias_bits=16)
    graph = fine.to_graph((8, 8, 1))
    torch.manual_seed(0)
    model = build_model(graph)
    x = to_torch_layout(torch.randn(64, 8, 8, 1))
    with torch.no_grad():
        model.bn1.weight.uniform_(0.5, 1.0)
        model.bn1.bias.uniform_(-0.2, 0.2)
        model.bn1.running_mean.uniform_(-0.5, 0.5)
        model.bn1.running_var.uniform_(1.0, 2.0)
    model.eval()
    folded = fold_batchnorm(model).eval()
    assert LayerKind.BATCHNORM not in {x.kind for x in folded.graph.layers}
    assert folded.graph == without_batchnorm(graph)
    assert folded.graph.layer("relu1").inputs == ("conv1",)
    with torch.no_grad():
        before = model.bn1(model.conv1(model.input(x)))
        after = folded.conv1(folded.input(x))
    # 16-bit weights (LSB 2^-15) and biases (LSB 2^-13) re-quantize the folded parameters finely
    assert (after - before).abs().max() < 1e-2
    assert (after - before).abs().max() > 0  # the check is not vacuous: folding re-quantized something


def _default_precision_spec(**fc1_precision: str):
    from codesign.spec import design_spec_from_dict

    layers = [
        {"type": "dense", "name": "fc1", "units": 4, **({"precision": fc1_precision} if fc1_precision else {})},
        {"type": "relu"},
    ]
    return design_spec_from_dict({"input_shape": [8], "layers": layers}).graph


@pytest.mark.parametrize(
    ("fc1_precision", "message"),
    [
        # both at once: the exact accumulator and the result made saturating (one round, not two)
        (
            {},
            r"accum ap_fixed<16,6> drops fraction bits .* write precision: \{accum: \"ap_fixed<36,16>\", "
            r"result: \"ap_fixed<16,6,AP_TRN,AP_SAT>\"\}",
        ),
        (
            {"result": "ap_fixed<16,6,AP_TRN,AP_SAT>"},
            r"drops fraction bits .* write precision: \{accum: \"ap_fixed<36,16>\"\} on this layer \(its result may",
        ),
        ({"accum": "ap_fixed<36,16>"}, r"result ap_fixed<16,6> wraps .* \{result: \"ap_fixed<16,6,AP_TRN,AP_SAT>\"\}"),
    ],
)
def test_a_default_precision_spec_is_refused_naming_the_type_to_write(fc1_precision, message) -> None:
    """hls4ml's default ap_fixed<16,6> everywhere: the accumulator would round every product and the result
    would wrap, neither of which a Brevitas model computes; each refusal names the types that build."""
    with pytest.raises(UnsupportedLayerError, match=message):
        build_model(_default_precision_spec(**fc1_precision))
    fixed = {"accum": "ap_fixed<36,16>", "result": "ap_fixed<16,6,AP_TRN,AP_SAT>"}
    model = build_model(_default_precision_spec(**fixed)).eval()
    assert model(torch.randn(2, 8)).shape == (2, 4)


def test_every_layer_needing_other_types_is_named_in_one_refusal() -> None:
    """A default-precision spec: one error names every layer's types (not one run per layer), and with
    them the spec builds."""
    from codesign.spec import design_spec_from_dict

    def spec(**precision: dict) -> dict:
        layers = [{"type": "dense", "name": "fc1", "units": 4}, {"type": "relu", "name": "r1"},
                  {"type": "dense", "name": "fc2", "units": 3}]  # fmt: skip
        for layer in layers:
            layer.update({"precision": precision[layer["name"]]} if layer["name"] in precision else {})
        return {"input_shape": [8], "layers": layers}

    with pytest.raises(UnsupportedLayerError, match=r"^2 layers need other types") as info:
        build_model(design_spec_from_dict(spec()).graph)
    written = {name: {k: v.to_hls() for k, v in fix.items()} for name, fix in info.value.fixes}
    assert list(written) == ["fc1", "fc2"] and all(set(fix) == {"accum", "result"} for fix in written.values())
    assert f'fc2: {{accum: "{written["fc2"]["accum"]}"' in str(info.value)
    build_model(design_spec_from_dict(spec(**written)).graph)


def test_a_wrapping_result_behind_a_batchnorm_is_refused_before_training() -> None:
    """A float batchnorm hides the relu's input range until it is folded: build_foldable (what train uses)
    builds the folded form too, refuses it at once, and draws nothing from torch's generator doing so."""
    from codesign.models.fold import build_foldable
    from codesign.spec import design_spec_from_dict

    fc1 = {"accum": "ap_fixed<36,16>", "result": "ap_fixed<16,6,AP_TRN,AP_SAT>"}
    layers = [{"type": "dense", "name": "fc1", "units": 4, "precision": fc1}, {"type": "batchnorm", "name": "bn"},
              {"type": "relu", "name": "r1", "precision": {"result": "ap_ufixed<8,3>"}}]  # fmt: skip
    graph = design_spec_from_dict({"input_shape": [8], "layers": layers}).graph
    build_model(graph)  # the unfolded form alone builds
    with pytest.raises(UnsupportedLayerError, match=r"layer 'r1' \(activation\): result ap_ufixed<8,3> wraps"):
        build_foldable(graph)
    layers[2]["precision"] = {"result": "ap_ufixed<8,3,AP_TRN,AP_SAT>"}
    graph = design_spec_from_dict({"input_shape": [8], "layers": layers}).graph
    torch.manual_seed(0)
    first = build_foldable(graph).fc1.weight.detach().clone()
    torch.manual_seed(0)
    assert torch.equal(build_model(graph).fc1.weight, first)


def test_weights_are_rounded_to_nearest_whatever_the_type_says() -> None:
    """A TRN weight type (the HLS default) is still rounded to nearest, as the QONNX -> hls4ml path does."""
    graph = _default_precision_spec(accum="ap_fixed<36,16>", result="ap_fixed<16,6,AP_TRN,AP_SAT>")
    model = build_model(graph).eval()
    with torch.no_grad():
        model.fc1.weight.copy_(torch.full_like(model.fc1.weight, 0.7 / 1024))  # 0.7 LSB: floor 0, nearest 1
    assert torch.all(model.fc1.quant_weight().value * 1024 == 1)
