"""Layer kinds beyond the shared MLP/CNN: 1D CNNs (max pooling, global max pooling, depthwise convolutions
with several channels, as the cell spaces build them on 1D inputs), a 2D depthwise convolution over
several channels, a conv2d-batchnorm-global average pooling-dense CNN, average pooling 1D/2D, a linear
activation after a dense layer, and two design specs holding every pass-through kind (residual add,
upsampling, pooling, zero padding, concat) under every io type x strategy export and verify bit-exact; what
the hls4ml path cannot build is refused before anything is exported, naming the layer."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from export_cases import hardware

from codesign.models.arch import ArchLayer, ArchSpec
from hw_templates.config import HardwareConfig, LayerHardware, Strategy
from hw_templates.errors import UnsupportedLayerError

pytestmark = pytest.mark.slow

L = ArchLayer
#: digits' 64 features as 16 positions x 4 channels for the 1D networks.
SEQ = (16, 4)

CASES = {
    # with a residual block (an add of 1D feature maps under io_stream Latency, below)
    "pool1d": (
        SEQ,
        [L("conv1d", name="c1", filters=6, kernel=(3,), weight_bits=6), L("activation", name="r1", act_bits=6),
         L("conv1d", name="c2", filters=6, kernel=(3,), padding="same", weight_bits=6),
         L("activation", name="r2", act_bits=6), L("add", name="skip", inputs=("r1", "r2")),
         L("maxpool1d", name="pool", pool=(2,)), L("flatten", name="flat"), L("dense", name="out", units=10)],
    ),
    "dw1d_same": (
        SEQ,
        [L("depthwise_conv1d", name="dw", kernel=(3,), padding="same", weight_bits=6),
         L("activation", name="r1", act_bits=6), L("conv1d", name="pw", filters=6, kernel=(1,)),
         L("activation", name="r2", act_bits=6), L("flatten", name="flat"), L("dense", name="out", units=10)],
    ),
    "dw2d": (
        (8, 8, 1),
        [L("conv2d", name="c1", filters=4, kernel=(1,), weight_bits=6), L("activation", name="r1", act_bits=6),
         L("depthwise_conv2d", name="dw", kernel=(3,), weight_bits=6), L("activation", name="r2", act_bits=6),
         L("flatten", name="flat"), L("dense", name="out", units=10)],
    ),
    # the usual CNN head: conv2d, batchnorm (folded), global average pooling over 8x8, dense
    "cnn_bn_gap": (
        (8, 8, 1),
        [L("conv2d", name="c1", filters=4, kernel=(3,), padding="same", weight_bits=6), L("batchnorm", name="bn"),
         L("activation", name="r1", act_bits=6), L("global_avgpool2d", name="gap"), L("dense", name="out", units=10)],
    ),
    # both global poolings of a 1D map, side by side (the average over 14 positions), concatenated
    "gmp1d": (
        SEQ,
        [L("conv1d", name="c1", filters=6, kernel=(3,), weight_bits=6), L("activation", name="r1", act_bits=6),
         L("global_maxpool1d", name="gmp", inputs=("r1",)), L("global_avgpool1d", name="gap", inputs=("r1",)),
         L("concat", name="cat", inputs=("gmp", "gap")), L("dense", name="out", units=10)],
    ),
    # average pooling: qonnx 1.0 has no channels-last AveragePool; the export relabels it (codesign/export/
    # _channels_last.py); 2x2 and 2-wide windows divide by a power of two, so the mean is exact
    "avg2d": (
        (8, 8, 1),
        [L("conv2d", name="c1", filters=4, kernel=(3,), padding="same", weight_bits=6),
         L("activation", name="r1", act_bits=6), L("avgpool2d", name="pool", pool=(2,)), L("flatten", name="flat"),
         L("dense", name="out", units=10)],
    ),
    "avg1d": (
        SEQ,
        [L("conv1d", name="c1", filters=4, kernel=(3,), weight_bits=6), L("activation", name="r1", act_bits=6),
         L("avgpool1d", name="pool", pool=(2,)), L("flatten", name="flat"), L("dense", name="out", units=10)],
    ),
    # a 2D residual block with a concat and global max pooling (io_parallel, and io_stream below)
    "res2d": (
        (8, 8, 1),
        [L("conv2d", name="c1", filters=4, kernel=(3,), padding="same", weight_bits=6),
         L("activation", name="r1", act_bits=6),
         L("conv2d", name="c2", filters=4, kernel=(3,), padding="same", weight_bits=6),
         L("activation", name="r2", act_bits=6), L("add", name="skip", inputs=("r1", "r2")),
         L("concat", name="cat", inputs=("skip", "r1")), L("global_maxpool2d", name="gmp"),
         L("dense", name="out", units=10)],
    ),
    "linear_act": (
        (64,),
        [L("dense", name="fc1", units=16, weight_bits=4), L("activation", name="q1", function="linear", act_bits=6),
         L("dense", name="out", units=10)],
    ),
}  # fmt: skip
CASES["res2d_stream"] = CASES["res2d"]
#: Cases exported with io_stream (the rest with io_parallel); all with the Latency strategy.
STREAM_CASES = ("pool1d", "gmp1d", "avg1d", "res2d_stream")


_Q = {"input": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "weight": "ap_fixed<6,1,AP_RND_CONV,AP_SAT>",
      "bias": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}  # fmt: skip
_CONV = {"accum": "ap_fixed<20,8>", "result": "ap_fixed<20,8,AP_TRN,AP_SAT>"}
_RELU = {"result": "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"}


def _zoo(dims: int) -> dict:
    """A design spec holding every pass-through kind of one rank: a residual block around a depthwise
    convolution, upsampling, average pooling, zero padding, max pooling, both global poolings (the
    average over a power-of-two count) concatenated, dense. The add, upsampling, poolings, padding and
    concat keep the default result type ap_fixed<16,6> (what the cost model prices; hls4ml alone would
    infer the add's exact ufixed<7,3>, and the average pooling after it would drop the mean's last bit)."""
    d = f"{dims}d"
    return {
        "input_shape": [8, 8, 1] if dims == 2 else [16, 4],
        "precision": _Q,
        "layers": [
            {"type": f"conv{d}", "name": "c1", "filters": 4, "kernel": 3, "padding": "same", "precision": _CONV},
            {"type": "relu", "name": "r1", "precision": _RELU},
            {"type": f"depthwise_conv{d}", "name": "dw", "kernel": 3, "padding": "same", "precision": _CONV},
            {"type": "relu", "name": "r2", "precision": _RELU},
            {"type": "add", "name": "skip", "inputs": ["r1", "r2"]},
            {"type": f"upsampling{d}", "name": "up", "scale": 2},
            {"type": f"avgpool{d}", "name": "apool", "pool": 2},
            {"type": f"zeropadding{d}", "name": "pad", "pad": 1 if dims == 2 else [1, 2]},
            {"type": f"maxpool{d}", "name": "mpool", "pool": 2},
            {"type": f"global_maxpool{d}", "name": "gmp", "inputs": ["mpool"]},
            {"type": f"global_avgpool{d}", "name": "gap", "inputs": ["apool"]},
            {"type": "concat", "name": "cat", "inputs": ["gmp", "gap"]},
            {"type": "dense", "name": "out", "units": 10, "precision": {"result": "ap_fixed<28,12,AP_TRN,AP_SAT>"}},
        ],
    }  # fmt: skip


#: Design specs with the kinds the search spaces do not sample (upsampling and zero padding export through
#: the toolkit's channels-last rewrite of qonnx's Transpose-Pad|Resize-Transpose), each exported with every
#: (io type, strategy) of :data:`ZOO_SETTINGS`.
ZOO_CASES = {"zoo1d": _zoo(1), "zoo2d": _zoo(2)}
ZOO_SETTINGS = (("io_parallel", "latency"), ("io_parallel", "resource"), ("io_stream", "latency"),
                ("io_stream", "resource"))  # fmt: skip
#: Layers kept at the Latency strategy when a zoo design is exported with Resource (hls4ml 1.3 cannot
#: build a depthwise convolution with Resource: hw_templates.config.LATENCY_ONLY_KINDS).
ZOO_LATENCY_LAYERS = frozenset({"dw"})


def _zoo_hardware(name: str, io_type: str, strategy: str) -> HardwareConfig:
    if strategy == "latency":
        return hardware(io_type, strategy, 1)
    layers = {x: LayerHardware(strategy=Strategy.LATENCY, reuse_factor=1) for x in ZOO_LATENCY_LAYERS}
    if name == "zoo2d":  # a 3x3 kernel on one channel: 9 inputs, so 2 is not a legal reuse factor
        layers["c1"] = LayerHardware(reuse_factor=3)
    return replace(hardware(io_type, strategy, 2), layers=layers)


def test_pass_through_kinds_export_bit_exact_with_every_io_type_and_strategy(tmp_path: Path, csim_cache: Path) -> None:
    """Two trainings, eight compiles: the 1D and 2D zoo x io_parallel/io_stream x Latency/Resource."""
    from codesign.data import load_dataset
    from codesign.design import TrainedDesign
    from codesign.export import export_designs, request_from_design
    from codesign.models.train import TrainConfig, train
    from codesign.spec import design_spec_from_dict

    requests = []
    for name, spec_dict in ZOO_CASES.items():
        spec = design_spec_from_dict(spec_dict)
        data = load_dataset("digits", tuple(spec_dict["input_shape"]), seed=0)
        result = train(spec.graph, data, TrainConfig(epochs=1, seed=0, batch_size=128))
        design = TrainedDesign.from_training(result, hardware(), data.info)
        base = request_from_design(design.save(tmp_path / name, result.model))
        requests += [
            replace(base, design_id=f"{name}_{io}_{s}", hardware=_zoo_hardware(name, io, s)) for io, s in ZOO_SETTINGS
        ]
    results = export_designs(requests, tmp_path / "out", jobs=2, cache_dir=csim_cache, progress=False)
    for result in results:
        assert result.status == "verified", (result.design_id, result.error)
        assert result.verification.bit_exact_mismatches == 0 and result.verification.n_samples > 300
        layers = result.manifest["hls4ml"]["applied"]
        merges = [a for a in layers if a["class_name"] in ("Merge", "Concatenate")]  # the design's type, not hls4ml's
        assert len(merges) == 2 and all(a["precision"]["result"].startswith("fixed<16,6,") for a in merges), merges
        if result.design_id.endswith("resource"):
            applied = {a["ir_name"]: a for a in layers if a["ir_name"]}
            assert applied["c1"]["strategy"] == "resource" and applied["dw"]["strategy"] == "latency", applied
            assert applied["out"]["reuse_factor"] == 2


def _design(name: str, shape: tuple[int, ...], layers: list[ArchLayer], folder: Path, io_type: str) -> Path:
    from codesign.data import load_dataset
    from codesign.design import TrainedDesign
    from codesign.models.train import TrainConfig, train

    data = load_dataset("digits", shape, seed=0)
    result = train(ArchSpec(name, tuple(layers)).to_graph(shape), data, TrainConfig(epochs=2, seed=0, batch_size=128))
    design = TrainedDesign.from_training(result, hardware(io_type, "latency", 1), data.info)
    return design.save(folder, result.model)


def test_more_layer_kinds_export_and_verify_bit_exact(tmp_path: Path, csim_cache: Path) -> None:
    from codesign.export import export_designs, request_from_design

    folders = [
        _design(name, shape, layers, tmp_path / name, "io_stream" if name in STREAM_CASES else "io_parallel")
        for name, (shape, layers) in CASES.items()
    ]
    results = export_designs(
        [request_from_design(f) for f in folders], tmp_path / "out", jobs=2, cache_dir=csim_cache, progress=False
    )
    for result in results:
        assert result.status == "verified", (result.design_id, result.error)
        assert result.verification.bit_exact_mismatches == 0
        assert result.verification.n_samples > 300
    manifest = json.loads((tmp_path / "out" / "linear_act" / "manifest.json").read_text())
    fc1 = next(a for a in manifest["hls4ml"]["applied"] if a["ir_name"] == "fc1")
    assert fc1["precision"]["result"].startswith("fixed<6,"), fc1  # the linear quantizer, fused


def test_resource_strategy_on_a_depthwise_layer_is_refused_before_export(tmp_path: Path) -> None:
    from codesign.export import export_designs, request_from_design

    shape, layers = CASES["dw2d"]
    request = request_from_design(_design("dw", shape, layers, tmp_path / "dw", "io_stream"))
    hw = replace(request.hardware, layers={"dw": LayerHardware(strategy=Strategy.RESOURCE, reuse_factor=9)})
    with pytest.raises(UnsupportedLayerError, match=r"layer 'dw' \(depthwise_conv2d\): strategy resource"):
        export_designs([replace(request, hardware=hw)], tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "dw" / "qonnx").exists()


def test_a_spec_cnn_with_default_result_types_and_global_average_pooling_verifies(
    tmp_path: Path, csim_cache: Path
) -> None:
    """A hand-written spec (conv2d, batchnorm, relu, global average pooling, dense) whose conv and pooling
    keep the default ap_fixed<16,6>: hls4ml is given the design's types (conv accumulator = its wrapping
    result, the pooling's exact mean), so it builds what the estimate priced, bit-exact."""
    from codesign.data import load_dataset
    from codesign.design import TrainedDesign
    from codesign.export import export_designs, request_from_design
    from codesign.models.train import TrainConfig, train
    from codesign.spec import design_spec_from_dict

    spec = design_spec_from_dict(
        {
            "input_shape": [8, 8, 1],
            "precision": {"input": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "weight": "ap_fixed<6,1,AP_RND_CONV,AP_SAT>",
                          "bias": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"},
            "layers": [
                {"type": "conv2d", "name": "conv1", "filters": 8, "kernel": 3, "padding": "same"},
                {"type": "batchnorm", "name": "bn1"},
                {"type": "relu", "name": "relu1", "precision": {"result": "ap_ufixed<6,2,AP_RND_CONV,AP_SAT>"}},
                {"type": "global_avgpool2d", "name": "gap"},
                {"type": "dense", "name": "out", "units": 10, "precision": {"result": "ap_fixed<21,6>"}},
            ],
        }
    )  # fmt: skip
    data = load_dataset("digits", (8, 8, 1), seed=0)
    result = train(spec.graph, data, TrainConfig(epochs=2, seed=0, batch_size=128))
    folder = TrainedDesign.from_training(result, spec.hardware, data.info).save(tmp_path / "spec_cnn", result.model)
    (done,) = export_designs([request_from_design(folder)], tmp_path / "out", cache_dir=csim_cache, progress=False)
    assert done.status == "verified" and done.verification.bit_exact_mismatches == 0
    applied = {a["ir_name"]: a["precision"] for a in done.manifest["hls4ml"]["applied"] if a["ir_name"]}
    assert applied["conv1"]["accum"].startswith("fixed<16,6") and applied["gap"]["result"].startswith("fixed<16,6")
