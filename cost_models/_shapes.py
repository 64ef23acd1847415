"""Output-shape inference and attribute normalisation for :mod:`cost_models.ir` layers.

Conventions follow hls4ml / Keras (channels-last): ``valid`` convolutions give
``floor((in - kernel) / stride) + 1`` outputs per dimension, ``same`` gives ``ceil(in / stride)``;
pooling strides default to the pool size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from cost_models.kinds import KindCoverage, LayerKind
from hw_templates.errors import ShapeError, SpecError, bad_value

if TYPE_CHECKING:
    from cost_models.ir import Layer

__all__ = ["KIND_COVERAGE", "normalize_layer"]


def _where(layer: Layer) -> str:
    return f"layer {layer.name!r} ({layer.kind.value})"


def _per_dim(layer: Layer, attr: str, value: tuple[int, ...], dims: int, default: int | None) -> tuple[int, ...]:
    if not value:
        if default is None:
            raise SpecError(f"{_where(layer)}: {attr} is required (a size or a list of {dims} sizes)")
        value = (default,)
    if len(value) == 1:
        value = value * dims
    if len(value) != dims or any(v < 1 for v in value):
        raise SpecError(bad_value(f"{_where(layer)} {attr}", list(value), f"a positive size or a list of {dims}"))
    return tuple(value)


def _spatial(layer: Layer, shape: tuple[int, ...], dims: int) -> None:
    if len(shape) != dims + 1:
        want = "(width, channels)" if dims == 1 else "(height, width, channels)"
        raise ShapeError(f"{_where(layer)}: expected an input of shape {want}, got {list(shape)}")


def _window_out(size: int, window: int, stride: int, padding: str, layer: Layer) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    if padding != "valid":
        raise SpecError(bad_value(f"{_where(layer)} padding", padding, "'valid' or 'same'", ["valid", "same"]))
    if window > size:
        raise ShapeError(f"{_where(layer)}: window {window} is larger than the input size {size} (use padding: same)")
    return (size - window) // stride + 1


def _conv_like(layer: Layer, shape: tuple[int, ...], window_attr: str, default_window: int | None) -> Layer:
    dims = layer.kind.spatial_dims
    _spatial(layer, shape, dims)
    window = _per_dim(layer, window_attr, getattr(layer, window_attr), dims, default_window)
    is_conv = layer.kind.has_weights
    stride_default = 1 if is_conv else None
    stride = (
        _per_dim(layer, "stride", layer.stride, dims, stride_default) if (layer.stride or stride_default) else window
    )
    out = tuple(_window_out(shape[d], window[d], stride[d], layer.padding, layer) for d in range(dims))
    kind = layer.kind.value
    if kind.startswith("depthwise"):
        channels = shape[-1] * layer.depth_multiplier
    elif is_conv:
        if not layer.filters or layer.filters < 1:
            raise SpecError(bad_value(f"{_where(layer)} filters", layer.filters, "a positive integer"))
        channels = layer.filters
    else:
        channels = shape[-1]
    return replace(layer, **{window_attr: window}, stride=stride, output_shape=out + (channels,))


def _merge(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    if len(in_shapes) < 2:
        raise ShapeError(f"{_where(layer)}: expected at least 2 inputs, got {len(in_shapes)}")
    first = in_shapes[0]
    if layer.kind.value == "add":
        for shape in in_shapes[1:]:
            if shape != first:
                raise ShapeError(f"{_where(layer)}: inputs must have equal shapes, got {[list(s) for s in in_shapes]}")
        return first
    axis = layer.axis % len(first)
    for shape in in_shapes[1:]:
        if len(shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(shape, first)) if i != axis):
            raise ShapeError(
                f"{_where(layer)}: inputs must agree except on axis {layer.axis}, got {[list(s) for s in in_shapes]}"
            )
    return first[:axis] + (sum(s[axis] for s in in_shapes),) + first[axis + 1 :]


def _padded(layer: Layer, shape: tuple[int, ...]) -> Layer:
    dims = layer.kind.spatial_dims
    _spatial(layer, shape, dims)
    pad = layer.pad or (1,)
    if len(pad) == 1:
        pad = pad * (2 * dims)
    elif len(pad) == dims:
        pad = tuple(p for p in pad for _ in range(2))
    if len(pad) != 2 * dims or any(p < 0 for p in pad):
        raise SpecError(bad_value(f"{_where(layer)} pad", list(layer.pad), f"1, {dims} or {2 * dims} sizes >= 0"))
    out = tuple(shape[d] + pad[2 * d] + pad[2 * d + 1] for d in range(dims)) + (shape[-1],)
    return replace(layer, pad=pad, output_shape=out)


def _dense(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    shape = in_shapes[0]
    if len(shape) != 1:
        raise ShapeError(f"{_where(layer)}: expected a flat input, got shape {list(shape)} (add a flatten layer)")
    if not layer.units or layer.units < 1:
        raise SpecError(bad_value(f"{_where(layer)} units", layer.units, "a positive integer"))
    return replace(layer, output_shape=(layer.units,))


def _recurrent(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    """LSTM/GRU over ``(steps, features)``: ``(steps, units)`` with ``return_sequences``, else ``(units,)``
    (Keras; hls4ml's ``n_sequence_out``)."""
    shape = in_shapes[0]
    if len(shape) != 2:
        raise ShapeError(f"{_where(layer)}: expected an input of shape (steps, features), got {list(shape)}")
    if not layer.units or layer.units < 1:
        raise SpecError(bad_value(f"{_where(layer)} units", layer.units, "a positive integer"))
    out = (shape[0], layer.units) if layer.return_sequences else (layer.units,)
    return replace(layer, output_shape=out)


def _global(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    _spatial(layer, in_shapes[0], layer.kind.spatial_dims)
    return replace(layer, output_shape=(in_shapes[0][-1],))


def _upsample(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    shape, dims = in_shapes[0], layer.kind.spatial_dims
    _spatial(layer, shape, dims)
    scale = _per_dim(layer, "scale", layer.scale, dims, 2)
    return replace(layer, scale=scale, output_shape=tuple(s * f for s, f in zip(shape, scale)) + (shape[-1],))


def _same(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    if layer.kind.value == "activation" and layer.function is None:
        raise SpecError(f"{_where(layer)}: an activation layer needs a function")
    return replace(layer, output_shape=in_shapes[0])


def _reshape(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    target, shape = layer.target_shape, in_shapes[0]
    if not target or math.prod(target) != math.prod(shape):
        raise ShapeError(f"{_where(layer)}: target_shape {list(target)} must hold {math.prod(shape)} values")
    return replace(layer, output_shape=target)


#: Output-shape rule name (``KindInfo.shape_rule``) -> rule.
_RULES: dict[str, Callable[[Layer, tuple[tuple[int, ...], ...]], Layer]] = {
    "input": lambda layer, shapes: layer,
    "dense": _dense,
    "window": lambda layer, shapes: _conv_like(layer, shapes[0], "kernel", None),
    "pool": lambda layer, shapes: _conv_like(layer, shapes[0], "pool", 2),
    "global": _global,
    "upsample": _upsample,
    "pad": lambda layer, shapes: _padded(layer, shapes[0]),
    "same": _same,
    "flatten": lambda layer, shapes: replace(layer, output_shape=(math.prod(shapes[0]),)),
    "reshape": _reshape,
    "merge": lambda layer, shapes: replace(layer, output_shape=_merge(layer, shapes)),
    "recurrent": _recurrent,
}
KIND_COVERAGE = KindCoverage("shape inference", frozenset(k for k in LayerKind if k.info.shape_rule in _RULES))


def normalize_layer(layer: Layer, in_shapes: tuple[tuple[int, ...], ...]) -> Layer:
    """Return ``layer`` with per-dimension attributes filled in and ``output_shape`` inferred.

    Raises:
        ShapeError: the inputs do not fit the layer.
        SpecError: a size attribute is missing or out of range.
    """
    rule = _RULES.get(layer.kind.info.shape_rule)
    if rule is None:
        raise SpecError(f"{_where(layer)}: cannot infer the output shape of this layer kind")
    return rule(layer, in_shapes)
