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
from dataclasses import dataclass
from typing import Any

from cost_models.ir import Activation, GraphBuilder, LayerGraph, LayerPrecision
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

_ACTIVATION_NAMES = {a.value: a for a in Activation} | {"leaky_re_lu": Activation.LEAKY_RELU}
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
            cell is empty (with the evidence in ``notes``); None when the source does not tell.
    """

    graph: LayerGraph
    reuse_factor: int
    layer_reuse: Mapping[str, int]
    layer_strategy: Mapping[str, str]
    notes: tuple[str, ...]
    strategy: str | None = None


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


def activation_from_name(name: str, summary: str) -> Activation:
    """Map an hls4ml activation layer name (``relu1``, ``softmax``) to its function."""
    stem = re.sub(r"[\d_]+$", "", name.lower())
    if stem in _ACTIVATION_NAMES:
        return _ACTIVATION_NAMES[stem]
    if re.search(rf"\b{re.escape(name)}\b[^|]*relu", summary, re.IGNORECASE):
        return Activation.RELU
    raise CalibrationError(f"activation {name!r}: its function cannot be known from its name or layer_summary")


def _parameters_h_design(row: Mapping[str, str], arch: list[Any]) -> RowDesign:
    """Layers parsed from firmware/parameters.h (dense / activ / batchnorm entries)."""
    types = _typedefs(row)
    weight_types = [t for t in (row.get("weight_precision") or "").split(";") if t.strip()]
    if len(weight_types) != 1:
        raise CalibrationError(bad_value("weight_precision", row.get("weight_precision"), "one weight type"))
    weight = _precision(weight_types[0], "weight_precision")
    if not arch or not isinstance(arch[0], dict) or arch[0].get("kind") != "dense":
        raise CalibrationError("arch_json: expected a layer list starting with a dense layer")
    builder = GraphBuilder(row["model_id"], (_arch_int(arch[0], "n_in"),), types["input"])
    result = LayerPrecision(result=types["result"])
    reuse: dict[str, int] = {}
    strategy: dict[str, str] = {}
    for entry in arch:
        _add_parameters_h_layer(builder, entry, row, LayerPrecision(types["result"], weight), result)
        if entry.get("kind") == "dense":
            reuse[entry["name"]] = _arch_int(entry, "reuse_factor")
            strategy[entry["name"]] = str(entry.get("strategy", row.get("strategy", "")))
    notes = ("bias precision not recorded", "layer output types taken as the model's result_t")
    return RowDesign(builder.build(), max(reuse.values()), reuse, strategy, notes)


def _arch_int(entry: Mapping[str, Any], key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CalibrationError(bad_value(f"arch_json layer {entry.get('name')!r} {key}", value, "a positive integer"))
    return value


def _add_parameters_h_layer(
    builder: GraphBuilder,
    entry: Mapping[str, Any],
    row: Mapping[str, str],
    weighted: LayerPrecision,
    plain: LayerPrecision,
) -> None:
    name, kind = str(entry.get("name")), entry.get("kind")
    n_in = _arch_int(entry, "n_in")
    if n_in != builder.last.n_outputs:
        previous = builder.last.n_outputs
        raise CalibrationError(f"arch_json layer {name!r}: n_in {n_in} does not match the previous layer's {previous}")
    if kind == "dense":
        n_out = _arch_int(entry, "n_out")
        zeros = entry.get("n_zeros", 0)
        if not isinstance(zeros, int) or not 0 <= zeros <= n_in * n_out:
            raise CalibrationError(bad_value(f"arch_json layer {name!r} n_zeros", zeros, f"0..{n_in * n_out}"))
        builder.add("dense", name=name, units=n_out, precision=weighted, sparsity=zeros / (n_in * n_out))
    elif kind == "activ":
        function = activation_from_name(name, row.get("layer_summary", ""))
        builder.add("activation", name=name, function=function, precision=plain)
    elif kind == "batchnorm":
        builder.add("batchnorm", name=name, precision=plain)
    else:
        raise CalibrationError(bad_value(f"arch_json layer {name!r} kind", kind, "dense, activ or batchnorm"))


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
    if kind == "lstm":
        raise CalibrationError("recurrent layers are not in the IR (N-TORC LSTM row)")
    n_in, size = _int_cell(row, "n_in"), _int_cell(row, "size")
    precision = _precision(row.get("precision", ""), "precision")
    layer_precision = LayerPrecision(precision, precision, precision)
    if kind == "conv1d":
        builder = GraphBuilder(row["model_id"], (_int_cell(row, "seq_len"), n_in), precision)
        builder.add("conv1d", filters=size, kernel=(NTORC_KERNEL,), padding=NTORC_PADDING, precision=layer_precision)
        notes = [f"conv1d kernel {NTORC_KERNEL}, padding {NTORC_PADDING}, stride 1 (N-TORC design_space_explorer.py)"]
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
