"""io_stream specifics: streamed convolution, FIFOs between layers, and dataflow latency.

Mechanisms (hls4ml 1.3 ``nnet_conv_stream.h``, ``nnet_conv2d_stream.h``, ``nnet_conv1d_stream.h``,
``backends/fpga/fpga_types.py``):

* Line-buffer convolution (``conv_1d_buffer_cl`` / ``conv_2d_buffer_cl``, hls4ml v0.6-v1.3): the loop
  ``ReadInputWidth`` (``ReadInputHeight``) runs once per pixel of the *padded* input (``in_width``
  includes the zero padding hls4ml inserts before an io_stream 'same' convolution). Under Latency it
  is pipelined with ``II = reuse_factor``, so one image takes ``padded_pixels * rf`` cycles plus the
  unit's depth. Under Resource it is not pipelined (the ``PIPELINE`` pragma is in the
  ``strategy == latency`` branch): every iteration runs ``compute_output_buffer_*d``: the
  kernel-window shift (``KernelShiftWidth``, ``filt_width - 1`` iterations at II 1, plus the push:
  ``filt_width`` cycles) and, when a window is complete, the Resource dense (``dense_resource``: the
  unit's own latency, ``rf`` + depth + overhead). The csynth figure is the worst case, which counts
  the dense call in every iteration: ``padded_pixels * (filt_width + unit_latency)``. Seen exactly
  in the N-TORC Conv1D rows (Vivado HLS 2019.1: ``(seq + 2) * (rf + 10)`` from rf 2 to 384) and the
  karlis-susters k4x4 / k32 Resource rows (Vivado HLS 2019.2: 256 x 13 and 128 x 41 cycles).
  ``ParallelizationFactor`` replicates the unit and divides the pixel count.
* Line buffers are ``ap_shift_reg<data, in_width>`` arrays, ``filt_height - 1`` per channel; the
  kernel window is ``filt_height * filt_width * n_chan`` registers.
* The encoded implementation keeps ``filt_height * filt_width * n_chan`` FIFOs of depth
  ``filt_height * out_width`` instead of line buffers.
* Every tensor between layers is an ``hls::stream`` of packed pixels (``n_chan`` values) with
  ``depth = prod(shape) / shape[-1]`` unless a FIFO depth is set (``StreamVariableConverter``).
* ``fifo_depths: sized`` (:class:`~hw_templates.config.FifoDepths`): a FIFO between one producer and
  one consumer is built :func:`sized_fifo_depth` deep instead of one tensor. hls4ml's own answer is
  co-simulation (``FifoDepthOptimization``: the largest occupancy seen in RTL simulation, plus one);
  this is its analytical counterpart, a bound on that occupancy under this model's timing.
* A streamed Dense layer (``nnet_dense_stream.h``, v0.6-v1.3) first copies its input out of the stream
  (``DataPrepare``, pipelined at II 1): ``n_in / data_T::size`` reads, one per transfer of the stream
  feeding it (:func:`dense_reads`: a Flatten passes the producer's stream on, so after a convolution
  that is one read per pixel; after a dense layer or a flat input, one read). It adds to the layer's
  latency and bounds its interval from below.
* Layers run as a dataflow pipeline: they overlap. The design's interval is the slowest layer's; its
  latency is the slowest interval plus every layer's pipeline fill along the critical path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cost_models.analytical._num import Num, ceil, maximum, minimum
from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.matvec import Terms
from cost_models.analytical.memory import fifo_cost
from cost_models.ir import Layer, LayerKind

__all__ = [
    "FIFO_MARGIN",
    "dataflow_latency",
    "dense_reads",
    "fifo_terms",
    "line_buffer_terms",
    "padded_pixels",
    "sized_fifo_depth",
    "stream_conv_timing",
    "stream_tokens",
]

#: Layers that pass an io_stream stream on unchanged (hls4ml's Flatten / Reshape are in-place).
_PASS_THROUGH = frozenset({LayerKind.FLATTEN, LayerKind.RESHAPE})
#: Slots a sized FIFO keeps beyond the occupancy bound: hls4ml's optimizer adds one to the largest
#: occupancy it observes; one more covers the write/read handshake of back-to-back transfers.
FIFO_MARGIN = 2


def stream_conv_timing(
    layer: Layer, unit_latency: Num, rf: Num, latency_strategy: bool, pf: int, consts: AnalyticalConstants
) -> tuple[Num, Num]:
    """``(latency, ii)`` in cycles of a streamed (line-buffer) convolution of one image (module docstring:
    the csynth worst case, which runs the dense unit on every padded input pixel under Resource).

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("c", (16, 16, 1), FixedType(16, 6))
        >>> conv = b.add("conv2d", filters=1, kernel=(4, 4))
        >>> stream_conv_timing(conv, 9, 1, False, 1, C)  # 256 pixels x (4-cycle shift + 9-cycle unit)
        (3328.0, 3328.0)
    """
    pixels = ceil(padded_pixels(layer) / pf)
    if latency_strategy:
        ii = pixels * rf
        return ii + unit_latency, ii
    shift_cycles = layer.kernel[-1] if layer.kernel else 1
    ii = pixels * (shift_cycles + unit_latency)
    return ii, ii


def padded_pixels(layer: Layer) -> int:
    """Pixels the line buffer reads per image: the input with the zero padding of a 'same' convolution
    (hls4ml inserts a ZeroPadding layer before it in io_stream), ``max(in, (out - 1) * stride + k)``
    per spatial dimension."""
    dims = len(layer.input_shape) - 1
    kernel = layer.kernel or (1,) * dims
    stride = layer.stride or (1,) * dims
    out = 1
    for i in range(dims):
        size, k = layer.input_shape[i], kernel[i] if i < len(kernel) else 1
        s = stride[i] if i < len(stride) else 1
        out *= max(size, (layer.output_shape[i] - 1) * s + k)
    return out


def line_buffer_terms(
    layer: Layer, a_bits: int, encoded: bool, consts: AnalyticalConstants, window: tuple[int, ...] | None = None
) -> Terms:
    """Memory and registers that turn a pixel stream into windows (``window``: default the kernel)."""
    kernel = window or layer.kernel or (1,)
    channels = layer.in_channels
    in_width = layer.input_shape[-2] if len(layer.input_shape) > 1 else 1
    window_regs = _prod(kernel) * channels
    if encoded:
        out_width = layer.output_shape[-2] if len(layer.output_shape) > 1 else 1
        bram, lut, ff = fifo_cost(window_regs * a_bits, kernel[0] * out_width, consts)
    elif len(kernel) == 2 and kernel[0] > 1:
        bram, lut, ff = fifo_cost((kernel[0] - 1) * channels * a_bits, in_width, consts)
    else:
        bram, lut, ff = 0, 0, 0
    return {"bram18": bram, "lut_fixed": lut, "ff_fixed": ff + window_regs * a_bits}


def fifo_terms(shape: Sequence[int], bits: int, depth: Num | None, consts: AnalyticalConstants) -> Terms:
    """The output stream of a layer: packed pixels of ``shape[-1]`` values, ``depth`` pixels deep
    (``None``: one tensor, hls4ml's default)."""
    bram, lut, ff = fifo_cost(shape[-1] * bits, stream_tokens(shape) if depth is None else depth, consts)
    return {"bram18": bram, "lut_fixed": lut, "ff_fixed": ff}


def dense_reads(layer: Layer, by_name: Mapping[str, Layer]) -> int:
    """Stream transfers a streamed Dense layer reads per inference (module docstring): the transfers of
    the stream feeding it, looking through Flatten/Reshape (hls4ml passes the stream on unchanged).

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("g", (20, 16), FixedType(16, 6))
        >>> _ = b.add("flatten"); fc = b.add("dense", units=4)
        >>> g = b.build()
        >>> dense_reads(g.layers[-1], {x.name: x for x in g.layers})  # 20 pixels of 16 values
        20
    """
    node = by_name[layer.inputs[0]] if layer.inputs else layer
    while node.kind in _PASS_THROUGH and node.inputs:
        node = by_name[node.inputs[0]]
    return stream_tokens(node.output_shape)


def stream_tokens(shape: Sequence[int]) -> int:
    """Transfers per image on a stream of ``shape``: one per pixel (``shape[-1]`` values packed)."""
    return _prod(tuple(shape[:-1])) if len(shape) > 1 else 1


def sized_fifo_depth(tokens: int, consumer_ii: Num) -> Num:
    """Depth that never makes the producer wait, by a bound on the FIFO's occupancy.

    The producer is taken at its fastest (one transfer per cycle, the pipelined write loops of every
    hls4ml stream layer) and the consumer to take ``consumer_ii`` cycles for the image's ``tokens``
    transfers, spread evenly. The backlog then peaks when the last transfer is written, at
    ``tokens * (1 - tokens / consumer_ii)``; a consumer at least as fast leaves a backlog of at most
    one. Plus :data:`FIFO_MARGIN`, capped at one tensor (hls4ml's default, which never waits).

    Example:
        >>> sized_fifo_depth(64, 64.0), sized_fifo_depth(64, 256.0), sized_fifo_depth(64, 1e9)
        (2.0, 50.0, 64.0)
    """
    ii = maximum(consumer_ii, float(tokens))
    backlog = ceil(tokens * (1.0 - tokens / ii))
    return minimum(backlog + FIFO_MARGIN, float(tokens))


def dataflow_latency(
    inputs: Sequence[Sequence[int]], latency: Sequence[float], ii: Sequence[float]
) -> tuple[float, float]:
    """Latency and interval of layers running as a dataflow pipeline.

    Args:
        inputs: for each layer, the indices of the layers feeding it (topological order).
        latency / ii: per-layer latency and interval in cycles.

    Returns:
        ``(latency, ii)``: the slowest interval plus the longest chain of pipeline fills
        (``latency - ii`` per layer), and the slowest interval.

    Example:
        >>> dataflow_latency([[], [0], [1]], [0, 110, 60], [1, 100, 50])
        (120.0, 100.0)
    """
    fill: list[float] = []
    for srcs, lat, interval in zip(inputs, latency, ii):
        start = max((fill[s] for s in srcs), default=0.0)
        fill.append(start + max(lat - interval, 0.0))
    slowest = float(max(ii, default=1.0))
    return float(fill[-1]) + slowest, slowest


def _prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
