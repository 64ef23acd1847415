"""The ``arch_json`` layer list (parsed from hls4ml's ``firmware/parameters.h``) as a layer graph.

The calibration README lists the kinds a row may hold, in hls4ml's call order and naming: ``dense``,
``conv1d``, ``conv2d``, ``pointwise_conv1d/2d``, ``depthwise_conv1d/2d``, ``pooling1d/2d``,
``global_pooling``, ``zeropad``, ``batchnorm``, ``activ`` (with ``function``), ``concat``, ``merge``;
each with its shapes, ``reuse_factor``, ``strategy``, ``weight_t`` and output type ``out_t``. One handler
per kind (:data:`_HANDLERS`) checks the shapes the entry states against the shapes the IR infers, so a
row that does not describe its network fully is refused with the reason, never guessed silently.

hls4ml facts used (hls4ml 1.3, ``backends/vivado/passes`` and ``templates``): a Keras ``Flatten`` is no
layer in ``parameters.h`` (io_parallel arrays are flat; io_stream repacks), so a dense layer after a
spatial tensor reads it flattened; 'same' padding of io_stream convolutions becomes a separate
``zeropad`` layer, while io_parallel convolutions pad inside (``pad_left``/``pad_right`` > 0); HGQ's
quantizer layers (``h_quantize*``, ``*_quantizer``) are linear quantizer layers: a cast per value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cost_models.ir import Activation, GraphBuilder, Layer, LayerPrecision
from hw_templates.errors import CalibrationError, CodesignError, bad_value
from hw_templates.precision import FixedType, parse_precision

__all__ = ["KNOWN_KINDS", "ArchDesign", "activation_from_name", "build_arch_graph"]

_ACTIVATION_NAMES = {a.value: a for a in Activation} | {"leaky_re_lu": Activation.LEAKY_RELU, "re_lu": Activation.RELU}
_HGQ_RE = re.compile(r"^h_quantize|_quantizer$")
_POOL_OPS = {"max": "max", "average": "avg", "avg": "avg"}


@dataclass
class ArchDesign:
    """The graph built so far and what the entries said about each layer's hardware."""

    builder: GraphBuilder
    result: FixedType
    weight: FixedType | None
    summary: str = ""
    reuse: dict[str, int] = field(default_factory=dict)
    strategy: dict[str, str] = field(default_factory=dict)
    implementation: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)

    def append(self, kind: str, name: str, src: Layer, **attrs: Any) -> Layer:
        """Add a layer fed by ``src`` and remember it (for branch look-ups)."""
        layer = self.builder.add(kind, name=name, inputs=(src.name,), **attrs)
        self.layers.append(layer)
        return layer


def activation_from_name(name: str, summary: str = "") -> Activation:
    """An activation's function from its hls4ml layer name (``relu1``, ``dense1_linear``,
    ``softmax_config7``), else from the row's ``layer_summary``; CalibrationError when neither tells."""
    lower = name.lower()
    for key in sorted(_ACTIVATION_NAMES, key=len, reverse=True):
        if re.search(rf"(^|[_\d]){re.escape(key)}($|[_\d])", lower):
            return _ACTIVATION_NAMES[key]
    if re.search(rf"\b{re.escape(name)}\b[^|]*relu", summary, re.IGNORECASE):
        return Activation.RELU
    raise CalibrationError(f"activation {name!r}: its function cannot be known from its name or layer_summary")


def build_arch_graph(
    model_id: str,
    arch: list[Any],
    types: tuple[FixedType, FixedType, FixedType | None],
    summary: str = "",
) -> ArchDesign:
    """Walk the entries in call order; CalibrationError (one line naming the layer) when one cannot be read.

    ``types`` are the row's input type, model result type and its one weight type (None when it lists
    several: then every weighted layer must state its ``weight_t``); ``summary`` is its layer_summary.
    """
    input_type, result, weight = types
    if not arch or not all(isinstance(e, dict) for e in arch):
        raise CalibrationError("arch_json: expected a non-empty list of layer objects")
    design = ArchDesign(GraphBuilder(model_id, _input_shape(arch), input_type), result, weight, summary)
    design.layers.append(design.builder.last)
    for entry in arch:
        kind = str(entry.get("kind", ""))
        handler = _HANDLERS.get(kind) or (_quantizer if _HGQ_RE.search(kind) else None)
        if handler is None:
            raise CalibrationError(
                bad_value(f"arch_json layer {entry.get('name')!r} kind", kind, "a kind of the README")
            )
        try:
            handler(design, entry)
        except CalibrationError:
            raise
        except CodesignError as exc:  # a shape or size the IR refuses: name the layer
            raise CalibrationError(f"arch_json layer {entry.get('name')!r}: {exc}") from None
        if isinstance(entry.get("reuse_factor"), int) and entry["reuse_factor"] >= 1:
            design.reuse[str(entry["name"])] = entry["reuse_factor"]
    return design


def _int(entry: Mapping[str, Any], key: str, minimum: int = 1) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CalibrationError(
            bad_value(f"arch_json layer {entry.get('name')!r} {key}", value, f"an integer >= {minimum}")
        )
    return value


def _type(entry: Mapping[str, Any], key: str) -> FixedType | None:
    text = entry.get(key)
    if not text:
        return None
    try:
        return parse_precision(str(text))
    except CodesignError as exc:
        raise CalibrationError(f"arch_json layer {entry.get('name')!r} {key}: {exc}") from None


_SHAPE_KEYS = {
    "conv1d": ("in_width", "n_chan"),
    "pointwise_conv1d": ("in_width", "n_chan"),
    "depthwise_conv1d": ("in_width", "n_chan"),
    "conv2d": ("in_height", "in_width", "n_chan"),
    "pointwise_conv2d": ("in_height", "in_width", "n_chan"),
    "depthwise_conv2d": ("in_height", "in_width", "n_chan"),
    "pooling1d": ("n_in", "n_filt"),
    "pooling2d": ("in_height", "in_width", "n_filt"),
    "global_pooling": ("n_in", "n_filt"),
    "dense": ("n_in",),
}


def _declared_shape(entry: Mapping[str, Any]) -> tuple[int, ...] | None:
    kind = entry.get("kind")
    if kind == "zeropad":
        keys = ("in_height", "in_width", "n_chan") if "in_height" in entry else ("in_width", "n_chan")
        return tuple(_int(entry, k) for k in keys)
    if kind in _SHAPE_KEYS:
        return tuple(_int(entry, k) for k in _SHAPE_KEYS[kind])
    return None


def _input_shape(arch: list[Any]) -> tuple[int, ...]:
    """The network input: the first entry's input shape; elementwise first layers (batchnorm, activation,
    quantizer) take the shape of the first later entry that states one and holds as many values."""
    first = _declared_shape(arch[0])
    if first is not None:
        return first
    size = arch[0].get("n_in")
    for entry in arch[1:]:
        shape = _declared_shape(entry)
        if shape is not None and (size is None or math.prod(shape) == size):
            return shape
    if isinstance(size, int) and size >= 1:
        return (size,)
    raise CalibrationError(f"arch_json layer {arch[0].get('name')!r}: the network's input shape cannot be known")


def _source(design: ArchDesign, entry: Mapping[str, Any], size: int | None) -> Layer:
    """The layer feeding ``entry``: the last one when sizes agree, else the latest earlier layer holding
    ``size`` values (a branch: the entries are in call order, e.g. two heads after a shared pooling)."""
    last = design.builder.last
    if size is None or last.n_outputs == size:
        return last
    for layer in reversed(design.layers[:-1]):
        if layer.n_outputs == size:
            design.notes.append(f"layer {entry.get('name')!r} reads {layer.name!r} (a branch: sizes after call order)")
            return layer
    raise CalibrationError(
        f"arch_json layer {entry.get('name')!r}: input of {size} values fits no earlier layer "
        f"(last has {last.n_outputs})"
    )


def _precision(design: ArchDesign, entry: Mapping[str, Any], weighted: bool) -> LayerPrecision:
    result = _type(entry, "out_t")
    if result is None:
        result = design.result
        if "layer output types taken as the model's result_t" not in design.notes:
            design.notes.append("layer output types taken as the model's result_t")
    if not weighted:
        return LayerPrecision(result)
    weight = _type(entry, "weight_t") or design.weight
    if weight is None:
        raise CalibrationError(
            f"arch_json layer {entry.get('name')!r}: no weight_t, and weight_precision lists several weight types"
        )
    return LayerPrecision(result, weight)


def _add(design: ArchDesign, entry: Mapping[str, Any], kind: str, src: Layer, weighted: bool, **attrs: Any) -> Layer:
    return design.append(kind, str(entry.get("name")), src, precision=_precision(design, entry, weighted), **attrs)


def _check(entry: Mapping[str, Any], layer: Layer, keys: tuple[str, ...], channels: str | None) -> None:
    want = tuple(_int(entry, k) for k in keys) + ((_int(entry, channels),) if channels else ())
    got = layer.output_shape[: len(keys)] + (layer.output_shape[-1:] if channels else ())
    if want != got:
        raise CalibrationError(
            f"arch_json layer {entry.get('name')!r}: output {list(want)} stated, the IR infers {list(got)}"
        )


def _dense(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    n_in, n_out = _int(entry, "n_in"), _int(entry, "n_out")
    src = _source(design, entry, n_in)
    if len(src.output_shape) > 1:  # hls4ml reads the spatial tensor flat (no Flatten layer in parameters.h)
        src = design.append("flatten", f"{entry['name']}_flatten", src)
    zeros = entry.get("n_zeros", 0)
    if not isinstance(zeros, int) or not 0 <= zeros <= n_in * n_out:
        raise CalibrationError(bad_value(f"arch_json layer {entry.get('name')!r} n_zeros", zeros, f"0..{n_in * n_out}"))
    _add(design, entry, "dense", src, True, units=n_out, sparsity=zeros / (n_in * n_out))
    _strategy(design, entry)


def _strategy(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    if entry.get("strategy"):
        design.strategy[str(entry["name"])] = str(entry["strategy"])
    if entry.get("implementation"):
        design.implementation[str(entry["name"])] = str(entry["implementation"])


def _padding(entry: Mapping[str, Any], dims: int) -> str:
    sides = ("pad_top", "pad_bottom", "pad_left", "pad_right") if dims == 2 else ("pad_left", "pad_right")
    return "same" if any(entry.get(k, 0) for k in sides) else "valid"


def _conv(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    kind = str(entry["kind"])
    dims = 2 if kind.endswith("2d") else 1
    spatial = ("in_height", "in_width")[2 - dims :]
    src = _source(design, entry, math.prod(_declared_shape(entry) or (1,)))
    kernel = tuple(_int(entry, k) for k in ("filt_height", "filt_width")[2 - dims :])
    stride = tuple(_int(entry, k) for k in ("stride_height", "stride_width")[2 - dims :])
    attrs: dict[str, Any] = {"kernel": kernel, "stride": stride, "padding": _padding(entry, dims)}
    n_filt, n_chan = _int(entry, "n_filt"), _int(entry, "n_chan")
    if kind.startswith("depthwise"):
        if n_filt % n_chan:
            raise CalibrationError(f"arch_json layer {entry.get('name')!r}: n_filt {n_filt} is no multiple of n_chan")
        ir_kind, attrs["depth_multiplier"] = f"depthwise_conv{dims}d", n_filt // n_chan
    else:
        ir_kind, attrs["filters"] = f"conv{dims}d", n_filt
    if src.output_shape != tuple(_int(entry, k) for k in spatial) + (n_chan,):
        raise CalibrationError(f"arch_json layer {entry.get('name')!r}: input shape differs from its source's")
    weights = math.prod(kernel) * n_filt * (1 if kind.startswith("depthwise") else n_chan)
    zeros = entry.get("n_zeros", 0)
    if not isinstance(zeros, int) or not 0 <= zeros <= weights:
        raise CalibrationError(bad_value(f"arch_json layer {entry.get('name')!r} n_zeros", zeros, f"0..{weights}"))
    layer = _add(design, entry, ir_kind, src, True, sparsity=zeros / weights, **attrs)
    _check(entry, layer, ("out_height", "out_width")[2 - dims :], "n_filt")
    _strategy(design, entry)


def _pool_op(entry: Mapping[str, Any]) -> str:
    """The IR's name (``max``/``avg``) of a pooling entry's ``pool_op``; CalibrationError when unknown."""
    op = _POOL_OPS.get(str(entry.get("pool_op", "")).lower())
    if op is None:
        raise CalibrationError(
            bad_value(f"arch_json layer {entry.get('name')!r} pool_op", entry.get("pool_op"), "Max or Average")
        )
    return op


def _pooling(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    dims = 2 if entry["kind"] == "pooling2d" else 1
    op = _pool_op(entry)
    src = _source(design, entry, math.prod(_declared_shape(entry) or (1,)))
    pool = tuple(_int(entry, k) for k in ("pool_height", "pool_width")[2 - dims :])
    stride = tuple(_int(entry, k) for k in ("stride_height", "stride_width")[2 - dims :])
    layer = _add(design, entry, f"{op}pool{dims}d", src, False, pool=pool, stride=stride)
    _check(entry, layer, ("out_height", "out_width") if dims == 2 else ("n_out",), "n_filt")
    _strategy(design, entry)


def _global_pooling(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    op = _pool_op(entry)
    src = _source(design, entry, _int(entry, "n_in") * _int(entry, "n_filt"))
    dims = len(src.output_shape) - 1
    if dims not in (1, 2) or src.output_shape[-1] != entry["n_filt"]:
        raise CalibrationError(f"arch_json layer {entry.get('name')!r}: expected a (.., {entry['n_filt']}) input")
    _add(design, entry, f"global_{op}pool{dims}d", src, False)


def _zeropad(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    shape = _declared_shape(entry) or ()
    src = _source(design, entry, math.prod(shape))
    dims = len(shape) - 1
    sides = ("pad_top", "pad_bottom", "pad_left", "pad_right")[4 - 2 * dims :]
    pad = tuple(_int(entry, k, minimum=0) for k in sides)
    layer = _add(design, entry, f"zeropadding{dims}d", src, False, pad=pad)
    _check(entry, layer, ("out_height", "out_width")[2 - dims :], "n_chan")


def _elementwise_source(design: ArchDesign, entry: Mapping[str, Any]) -> Layer:
    size = entry.get("n_in")
    return _source(design, entry, size if isinstance(size, int) and size > 0 else None)


def _batchnorm(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    src = _elementwise_source(design, entry)
    n_filt = entry.get("n_filt", -1)
    if isinstance(n_filt, int) and n_filt > 0 and src.output_shape[-1] != n_filt:
        raise CalibrationError(
            f"arch_json layer {entry.get('name')!r}: n_filt {n_filt} differs from the input's channels"
        )
    _add(design, entry, "batchnorm", src, False)


def _activation(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    src = _elementwise_source(design, entry)
    text = str(entry.get("function") or "").lower()
    function = _ACTIVATION_NAMES.get(text) or activation_from_name(str(entry.get("name")), design.summary)
    attrs: dict[str, Any] = {"function": function}
    if isinstance(entry.get("table_size"), int) and entry["table_size"] > 0:
        attrs["table_size"] = entry["table_size"]
    _add(design, entry, "activation", src, False, **attrs)


def _quantizer(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    src = design.builder.last
    note = "HGQ quantizer layers priced as linear activations at their input's type (their types are not recorded)"
    if note not in design.notes:
        design.notes.append(note)
    design.append(
        "activation", str(entry.get("name")), src, function="linear", precision=LayerPrecision(src.precision.result)
    )


def _join(design: ArchDesign, entry: Mapping[str, Any]) -> None:
    raise CalibrationError(
        f"arch_json layer {entry.get('name')!r} ({entry.get('kind')}): the row does not record which tensors it joins"
    )


_HANDLERS: dict[str, Callable[[ArchDesign, Mapping[str, Any]], None]] = {
    "dense": _dense,
    "conv1d": _conv,
    "conv2d": _conv,
    "pointwise_conv1d": _conv,
    "pointwise_conv2d": _conv,
    "depthwise_conv1d": _conv,
    "depthwise_conv2d": _conv,
    "pooling1d": _pooling,
    "pooling2d": _pooling,
    "global_pooling": _global_pooling,
    "zeropad": _zeropad,
    "batchnorm": _batchnorm,
    "activ": _activation,
    "concat": _join,
    "merge": _join,
}
#: Every ``kind`` the README lists (HGQ quantizer kinds are matched by name).
KNOWN_KINDS = tuple(_HANDLERS)
