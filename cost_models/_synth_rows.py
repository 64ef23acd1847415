"""Row-level parsing for :mod:`cost_models.synth_data`: cells, and one network builder per source.

Every builder turns one CSV row into a :class:`RowDesign` (the layer graph plus the per-layer reuse
factors and notes) or raises :class:`~hw_templates.errors.CalibrationError` with a one-line reason,
which the reader records as a skipped row. Facts that a row does not carry are taken from the source
repository at the commit the data README names, cited next to each constant.

How to add a source: write ``_<source>_design(row) -> RowDesign`` and route to it in
:func:`build_design` (by the ``source`` column, or by the shape of ``arch_json``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cost_models._synth_arch import activation_from_name, build_arch_graph
from cost_models.ir import GraphBuilder, LayerGraph, LayerPrecision
from hw_templates.errors import CalibrationError, CodesignError, bad_value
from hw_templates.precision import FixedType, parse_precision
from hw_templates.reuse import closest_valid_reuse_factor

__all__ = ["RowDesign", "activation_from_name", "build_design", "cell_number", "strip_assumed"]

#: hls4ml's default precision (``config_from_keras_model(default_precision='fixed<16,6>')``, hls4ml
#: 1.3 utils/config.py; ``ap_fixed<16,6>`` in older releases): the layer types of a Keras model whose
#: config names no other. Keb-L's one config (streaming_comparison/line_buffer/model64_resource_10k/
#: model64_tclk_10k/hls4ml_config.yml @ 68028d28) sets ``Precision: ap_fixed<16,6>`` too.
HLS4ML_DEFAULT_PRECISION = FixedType(16, 6)

#: N-TORC layer settings, HeRCLab/N-TORC src/design_space_explorer.py (``generate_model``):
#: ``Conv1D(filters, 3, padding='same', activation='relu')`` (stride 1) and ``Dense(size, activation=
#: 'relu')``; hls4ml implements the relu as a separate layer, so a per-layer row is the product only.
NTORC_KERNEL = 3
NTORC_PADDING = "same"
#: Every Conv1D there is followed by ``MaxPooling1D(pool_size=2, strides=2, padding='same')``, so a conv
#: with ``n_in > 1`` channels (a later one) reads ``ceil(seq_len / 2)`` steps: the rows' ``seq_len`` is the
#: length before that pooling. The csynth latencies say so: ``(seq_len / 2 + 2) * (rf + 10)`` cycles for
#: those rows against ``(seq_len + 2) * (rf + 10)`` for the first conv (``n_in = 1``).
NTORC_POOL = 2

#: Keb-L CNN template, Keb-L/hls4ml-data models/model{4,8,16,32,64}_model.json @ 9f05a639: Conv2D 5x5
#: (F filters) -> BN -> LeakyReLU(0.3) -> MaxPool 2x2 -> Conv2D 3x3 (2F) -> BN -> LeakyReLU -> Conv2D
#: 3x3 (2F) -> BN -> LeakyReLU -> MaxPool 2x2 -> Flatten -> Dense(8, softmax); all 'same', stride 1.
KEBL_KERNELS = (5, 3, 3)
KEBL_LEAKY_ALPHA = 0.3
#: core/model4's vsynth report is byte-identical to core/model8's (README warning); it is model8's:
#: its 2996 DSPs equal model8's csynth DSPs, model4's csynth has 1068.
KEBL_BAD_VSYNTH = frozenset({"latency_analysis/core/model4"})
#: Keb-L ``latency_analysis/*`` rows leave the strategy cell empty, but they were built with the Resource
#: strategy: their block RAM holds the weight ROMs Resource builds (``ROM_nP_BRAM``; core/model4 csynth:
#: 602 BRAM18 where the Resource weight ROMs alone take ~490 and Latency, whose weights are constants in
#: logic, would take ~14) and their DSPs match Resource's ``ceil(n_in * n_out / rf)`` per layer. Their
#: reuse factors (2, 4, 18, 72 on a 75-input first convolution) are not legal under hls4ml 1.3's Resource
#: rule: the 2018 hls4ml that built them had another rule, so hls4ml 1.3 cannot reproduce these designs.
KEBL_RESOURCE_PREFIX = "latency_analysis/"

_ASSUMED_RE = re.compile(r"^(?P<value>[^(]*?)\s*\((?P<why>[^)]*)\)\s*$")
_KERAS_RE = re.compile(r"^(?P<kind>\w+)\[(?P<shape>[\d,\s]+)\]$")


@dataclass(frozen=True)
class RowDesign:
    """What a row says about the network and how it was configured.

    Attributes:
        graph: the network as the IR describes it.
        reuse_factor: model-wide reuse factor (as configured).
        layer_reuse: reuse factor each weight layer was built with, where it differs from the model's.
        layer_strategy: per-layer strategy names where the row records them.
        notes: assumptions and caveats.
        strategy: the model-wide strategy established from the source when the row's ``strategy``
            cell is empty or ``mixed`` (with the evidence in ``notes``); None when the source does not tell.
        layer_impl: per-layer ``implementation`` (io_stream convolution / pooling: linebuffer, encoded).
    """

    graph: LayerGraph
    reuse_factor: int
    layer_reuse: Mapping[str, int]
    layer_strategy: Mapping[str, str]
    notes: tuple[str, ...]
    strategy: str | None = None
    layer_impl: Mapping[str, str] = field(default_factory=dict)


def cell_number(row: Mapping[str, str], column: str) -> float | None:
    """The number in ``column``; None for an empty cell or ``?``; CalibrationError if malformed."""
    text = (row.get(column) or "").strip()
    if text in ("", "?"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(bad_value(column, text, "a number or an empty cell")) from None
    if not math.isfinite(value) or value < 0:
        raise CalibrationError(bad_value(column, text, "a finite, non-negative number"))
    return value


def strip_assumed(text: str) -> tuple[str, str | None]:
    """Split ``"xcu250-... (script default, assumed)"`` into the value and the parenthetical remark."""
    match = _ASSUMED_RE.match(text.strip())
    if match:
        return match["value"], match["why"]
    return text.strip(), None


def _int_cell(row: Mapping[str, str], column: str) -> int:
    value = cell_number(row, column)
    if value is None or value < 1 or value != int(value):
        raise CalibrationError(bad_value(column, row.get(column), "a positive integer"))
    return int(value)


def _precision(text: str, field: str) -> FixedType:
    try:
        return parse_precision(text)
    except CodesignError as exc:
        raise CalibrationError(f"{field}: {exc}") from None


def build_design(row: Mapping[str, str]) -> RowDesign:
    """Route a row to the builder of its source; CalibrationError when no builder can read it."""
    if "layer_type" in row:
        return _ntorc_design(row)
    if row.get("source", "").startswith("Keb-L/"):
        return _kebl_design(row)
    arch = _arch_json(row)
    if isinstance(arch, list):
        return _parameters_h_design(row, arch)
    if isinstance(arch, dict) and arch.get("family") == "conv2d":
        raise CalibrationError("wa-hls4ml conv2d rows only describe the dense tail: the conv layers are unknown")
    if isinstance(arch, dict) and "model_string" in arch:
        return _wa_dense_design(row, arch)
    raise CalibrationError(bad_value("arch_json", row.get("arch_json", "")[:60], "a parameters.h layer list"))


def _arch_json(row: Mapping[str, str]) -> Any:
    text = (row.get("arch_json") or "").strip()
    if not text:
        raise CalibrationError("arch_json: empty, so the network is unknown")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"arch_json: not valid JSON ({exc.msg} at char {exc.pos})") from None


def _typedefs(row: Mapping[str, str]) -> dict[str, FixedType]:
    """``input=<type>;result=<type>`` -> types by name."""
    out = {}
    for part in filter(None, (p.strip() for p in (row.get("precision") or "").split(";"))):
        name, sep, text = part.partition("=")
        if not sep:
            raise CalibrationError(bad_value("precision", row["precision"], "'input=<type>;result=<type>'"))
        out[name.strip()] = _precision(text.strip(), f"precision {name.strip()}")
    missing = {"input", "result"} - set(out)
    if missing:
        raise CalibrationError(bad_value("precision", row.get("precision"), "'input=<type>;result=<type>'"))
    return out


def _parameters_h_design(row: Mapping[str, str], arch: list[Any]) -> RowDesign:
    """Layers parsed from firmware/parameters.h (every kind the README lists; see :mod:`_synth_arch`)."""
    types = _typedefs(row)
    weight_types = [t for t in (row.get("weight_precision") or "").split(";") if t.strip()]
    weight = _precision(weight_types[0], "weight_precision") if len(weight_types) == 1 else None
    types_ = (types["input"], types["result"], weight)
    design = build_arch_graph(row["model_id"], arch, types_, row.get("layer_summary", ""))
    graph = design.builder.build()
    if not graph.weight_layers():
        raise CalibrationError("arch_json: no layer with weights (dense or convolution)")
    weighted = {layer.name for layer in graph.weight_layers()}
    rf = _model_reuse(row, [v for k, v in design.reuse.items() if k in weighted])
    strategies = [design.strategy[name] for name in design.strategy if name in weighted]
    model_strategy = None
    if row.get("strategy", "").strip().lower().startswith("mixed") and strategies:
        model_strategy = strategies[0]
    notes = ("bias precision not recorded", "accumulator types not recorded (taken as each layer's output type)")
    return RowDesign(
        graph, rf, design.reuse, design.strategy, notes + tuple(design.notes), model_strategy, design.implementation
    )


def _model_reuse(row: Mapping[str, str], layer_rfs: list[int]) -> int:
    """The row's model-wide reuse factor; for ``mixed`` rows the largest of the weight layers'."""
    text = (row.get("reuse_factor") or "").strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    if not layer_rfs:
        raise CalibrationError(bad_value("reuse_factor", text, "a positive integer or per-layer reuse factors"))
    return max(layer_rfs)


def _wa_dense_design(row: Mapping[str, str], arch: Mapping[str, Any]) -> RowDesign:
    """wa-hls4ml dense MLPs, ben-hawks/wa-hls4ml-search gen_dense_models_v2.py: QDense layers without
    activation, kernel and bias ``quantized_bits(p, 0, alpha=1)``, which hls4ml types as
    ``ap_fixed<p, 1>`` (hls4ml 1.3 model/quantizers.py, ``QKerasQuantizer._get_type``); every other type
    is hls4ml's default. run_search_iteration.py sets every dense layer's ReuseFactor to the run's RF."""
    sizes = [int(s) for s in str(arch["model_string"]).split("-") if s.strip().isdigit()]
    match = re.fullmatch(r"\s*(\d+)\s*b\s*", row.get("weight_precision") or "")
    if len(sizes) < 2 or not match:
        raise CalibrationError(
            bad_value("arch_json model_string / weight_precision", arch["model_string"], "'80-24-120' and '6b'")
        )
    bits = int(match[1])
    weight = _precision(f"ap_fixed<{bits},1>", "weight_precision")
    rf = _int_cell(row, "reuse_factor")
    builder = GraphBuilder(row["model_id"], (sizes[0],), HLS4ML_DEFAULT_PRECISION)
    applied: dict[str, int] = {}
    for units in sizes[1:]:
        layer = builder.add("dense", units=units, precision=LayerPrecision(HLS4ML_DEFAULT_PRECISION, weight, weight))
        applied[layer.name] = closest_valid_reuse_factor(layer.n_inputs, units, rf)
    snapped = ", ".join(f"{name}={value}" for name, value in applied.items() if value != rf)
    notes = [
        "no activation layers (QDense without activation)",
        f"weights/biases ap_fixed<{bits},1> from quantized_bits({bits},0)",
    ]
    if snapped:
        notes.append(f"reuse_factor {rf} requested; hls4ml snaps it under Resource (1.3 rule): {snapped}")
    return RowDesign(builder.build(), rf, applied, {}, tuple(notes))


def _ntorc_design(row: Mapping[str, str]) -> RowDesign:
    """One N-TORC layer: Conv1D over ``seq_len`` steps of ``n_in`` channels, or Dense on ``n_in``."""
    kind = (row.get("layer_type") or "").strip().lower()
    n_in, size = _int_cell(row, "n_in"), _int_cell(row, "size")
    precision = _precision(row.get("precision", ""), "precision")
    layer_precision = LayerPrecision(precision, precision, precision)
    if kind == "lstm":  # Keras LSTM(size, return_sequences=True) over seq_len steps (design_space_explorer.py)
        builder = GraphBuilder(row["model_id"], (_int_cell(row, "seq_len"), n_in), precision)
        builder.add("lstm", units=size, return_sequences=True, precision=layer_precision)
        notes = ["lstm return_sequences=True, default activations tanh/sigmoid (N-TORC design_space_explorer.py)"]
    elif kind == "conv1d":
        seq = _int_cell(row, "seq_len")
        notes = [f"conv1d kernel {NTORC_KERNEL}, padding {NTORC_PADDING}, stride 1 (N-TORC design_space_explorer.py)"]
        if n_in > 1:  # a later conv: its input went through MaxPooling1D(2, strides=2, 'same') (module comment)
            seq = -(-seq // NTORC_POOL)
            notes.append(f"input {seq} steps: seq_len {row['seq_len']} is before the preceding MaxPooling1D(2)")
        builder = GraphBuilder(row["model_id"], (seq, n_in), precision)
        builder.add("conv1d", filters=size, kernel=(NTORC_KERNEL,), padding=NTORC_PADDING, precision=layer_precision)
    elif kind == "dense":
        builder = GraphBuilder(row["model_id"], (n_in,), precision)
        builder.add("dense", units=size, precision=layer_precision)
        notes = []
    else:
        raise CalibrationError(bad_value("layer_type", kind, "conv1d, dense or lstm", ["conv1d", "dense", "lstm"]))
    rf = _int_cell(row, "reuse_factor")
    layer = builder.last
    n_mult = layer.mult_units()[0]
    if rf > n_mult[0] * n_mult[1]:
        notes.append(f"reuse_factor {rf} exceeds n_in*n_out={n_mult[0] * n_mult[1]} (kept as the source gives it)")
    requested = (row.get("reuse_factor_requested") or "").strip()
    if requested and requested != str(rf):
        notes.append(f"reuse_factor {requested} requested, {rf} used (source's corrected value)")
    return RowDesign(builder.build(), rf, {}, {}, tuple(notes))


def _kebl_design(row: Mapping[str, str]) -> RowDesign:
    """Keb-L CNNs: the template above, sized from the Keras shapes in ``layer_summary``."""
    if row.get("design_path") in KEBL_BAD_VSYNTH and row.get("result_kind") == "vsynth":
        raise CalibrationError("vsynth report is a copy of core/model8's (source copy error: 2996 DSPs)")
    shapes = _keras_shapes(row.get("layer_summary", ""))
    convs = [s for k, s in shapes if k == "Conv2D"]
    inputs = [s for k, s in shapes if k == "InputLayer"]
    dense = [s for k, s in shapes if k == "Dense"]
    if len(convs) != len(KEBL_KERNELS) or len(inputs) != 1 or len(dense) != 1:
        raise CalibrationError(bad_value("layer_summary", row.get("layer_summary"), "the Keb-L 3-conv CNN template"))
    if not (row.get("reuse_factor") or "").strip():
        raise CalibrationError("reuse_factor: not recorded in the row, so the design is not fully known")
    rf = _int_cell(row, "reuse_factor")
    p = HLS4ML_DEFAULT_PRECISION
    weighted = LayerPrecision(p, p, p)
    b = GraphBuilder(row["model_id"], inputs[0], p)
    for index, (kernel, shape) in enumerate(zip(KEBL_KERNELS, convs)):
        conv = b.add("conv2d", filters=shape[-1], kernel=(kernel,), padding="same", precision=weighted)
        if conv.output_shape != shape:
            raise CalibrationError(f"layer_summary: Conv2D{list(shape)} does not fit the Keb-L template")
        b.add("batchnorm", precision=weighted)
        b.add("activation", function="leaky_relu", alpha=KEBL_LEAKY_ALPHA)
        if index != 1:  # MaxPool after the first and the last convolution only
            b.add("maxpool2d", pool=(2,))
    flat = b.add("flatten").output_shape
    if any(kind == "Flatten" and shape != flat for kind, shape in shapes):
        raise CalibrationError(f"layer_summary: the Flatten size does not fit the Keb-L template ({flat[0]})")
    b.add("dense", units=dense[0][-1], precision=weighted)
    b.add("activation", function="softmax")
    notes = (
        "network from Keb-L models/*_model.json (kernels 5,3,3; BN; LeakyReLU 0.3; MaxPool 2)",
        "precision ap_fixed<16,6> (hls4ml default, as the source's one config)",
    )
    strategy = None
    if not row.get("strategy", "").strip() and row.get("design_path", "").startswith(KEBL_RESOURCE_PREFIX):
        strategy = "resource"
        notes += ("strategy Resource: BRAM and DSP fit Resource weight ROMs; reuse factor from a pre-1.0 hls4ml",)
    return RowDesign(b.build(), rf, {}, {}, notes, strategy)


def _keras_shapes(summary: str) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for item in (s.strip() for s in summary.split("|")):
        match = _KERAS_RE.match(item)
        if not match:
            raise CalibrationError(bad_value("layer_summary item", item, "'Kind[d1,d2,...]'"))
        out.append((match["kind"], tuple(int(v) for v in match["shape"].split(","))))
    return out
