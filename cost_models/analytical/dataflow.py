"""Registers of a DATAFLOW top: layer modules, ping-pong channels and top-level ports (FF features).

Which designs get one (hls4ml, top-function writer): io_stream always; io_parallel when the model uses the
Resource strategy (``#pragma HLS DATAFLOW`` instead of ``PIPELINE`` in the ``vivado_writer.py`` of
v0.2-v0.7, where the strategy was model-wide) or, from v0.8 to v1.3 (``backends/vivado/passes/
pipeline_style.py``, ``PipelineStyle: auto``), when any layer is a convolution or uses Resource
(:func:`dataflow_parallel` keys on the model-wide strategy). An
io_parallel design without them is one ``PIPELINE``d function: HLS inlines every layer into one pipeline
and its registers are the datapath's (``pipe``, ``state``).

Under ``DATAFLOW`` (UG902 / UG1399 "Dataflow", "Specifying Arrays as Ping-Pong Buffers or FIFOs",
"Block-Level I/O Protocols"):

* ``process``: each layer function stays a module with its own control: the block-level handshake
  (``ap_ctrl_hs`` / ``ap_ctrl_chain``: start, done, idle, ready, continue), a one-hot FSM, its loop
  counters and pipeline-stage valid bits, and in io_stream the registered stream ports. One per module;
  flatten/reshape are in place (no module) and in io_parallel the other data-movement layers are wires.
* ``channel`` (io_parallel): each layer output passed between two processes is a completely partitioned
  array, built as a ping-pong channel: two register copies, so one process writes the next sample while
  the other reads this one; the design's output array, written by the last process and read by the
  ``ap_vld`` interface, counts as one too. The bits of one copy (``n_outputs * result bits``); the
  fitted coefficient counts the copies (io_stream passes FIFOs instead, :func:`~.stream.fifo_terms`).
* ``port`` (io_parallel): the design's input array (``ARRAY_RESHAPE complete`` + ``INTERFACE ap_vld`` in
  hls4ml's top), registered at the port and buffered where the dataflow region reads it; bits of one
  copy, counted apart from ``channel`` because csynth and Vivado synthesis keep different shares of the
  two (an input-only feature keeps the estimate from falling when a layer is appended).
* ``axis`` (io_stream): hls4ml's io_stream top declares its input and output streams as AXI4-Stream ports (``#pragma
  HLS INTERFACE axis port=...`` in the top-function writer, v0.2-v1.3), and HLS builds each axis port with a register
  slice in both directions (``register_mode both``, the default for axis ports: UG902 "Using AXI4-Stream Interfaces",
  UG1399 "How AXI4-Stream is Implemented"): the forward data register and the skid buffer that holds a word while
  ``TREADY`` is registered, two words, counted by csynth. One transfer (word) is ``data_T::size`` values: the whole
  vector for a flat input (a Dense layer reads it in one), one pixel's channels for an image. Feature: the register
  bits of the slices of the input stream (on the input layer) and of the output stream (on the last layer), one FF per
  bit in the HLS estimate (:data:`~.constants.COEF_BOUNDS` ``hls_ff_axis``; fitted freely it came to 2.2 FF per
  transfer bit in-sample, and pinned it gave the same out-of-source FF within a point). Seen in the N-TORC csynth rows
  (Vivado HLS 2019.1, one layer per design): without it their Resource Dense layers came out ~34 FF per 16-bit input
  short (the "~67 FF per input" of docs/cost_models.md), and the fit put the missing registers into ``process`` (333
  FF per module).
"""

from __future__ import annotations

from cost_models.ir import Layer, LayerGraph, LayerKind
from hw_templates.config import HardwareConfig, Strategy

__all__ = ["dataflow_parallel", "dataflow_registers"]

_IN_PLACE = frozenset({LayerKind.INPUT, LayerKind.FLATTEN, LayerKind.RESHAPE})


def dataflow_parallel(graph: LayerGraph, hw: HardwareConfig) -> bool:
    """True when hls4ml gives this io_parallel design a DATAFLOW top: it has a convolution, or its
    model-wide strategy is Resource.

    The model-wide strategy (``hw.strategy``), as hls4ml v0.2-v0.7 decided; v0.8+ also switches when a
    single layer's override is Resource. Keying on the model-wide setting keeps every layer's cost a
    function of its own settings, which the hardware search's per-layer tables rely on
    (``codesign.search``): a Latency design with one Resource layer is priced as a PIPELINE top.

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates import resolve_part
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("m", (16,), FixedType(16, 6))
        >>> _ = b.add("dense", units=8)
        >>> def hw(strategy):
        ...     return HardwareConfig(resolve_part("xcu250"), strategy=strategy)
        >>> dataflow_parallel(b.build(), hw(Strategy.LATENCY)), dataflow_parallel(b.build(), hw(Strategy.RESOURCE))
        (False, True)
    """
    return hw.strategy is Strategy.RESOURCE or any(
        x.kind.has_weights and x.kind is not LayerKind.DENSE for x in graph.layers
    )


def dataflow_registers(
    layer: Layer, res_bits: int, stream: bool, dataflow: bool, last: bool
) -> tuple[int, int, int, int] | None:
    """``(channel bits, port bits, process, axis bits)`` of ``layer`` (module docstring), or ``None`` outside
    a DATAFLOW top. ``dataflow``: the top is DATAFLOW (io_stream or :func:`dataflow_parallel`); ``last``:
    the layer is the design's output.

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("m", (16,), FixedType(16, 6))
        >>> _ = b.add("dense", units=8)
        >>> _ = b.add("dense", units=4)
        >>> g = b.build()
        >>> [dataflow_registers(x, 16, False, True, x is g.layers[-1]) for x in g.layers]
        [(0, 256, 0, 0), (128, 0, 1, 0), (64, 0, 1, 0)]
        >>> dataflow_registers(g.layers[1], 16, True, True, False)  # io_stream: a module, FIFOs priced apart
        (0, 0, 1, 0)
        >>> [dataflow_registers(x, 16, True, True, x is g.layers[-1])[3] for x in g.layers]  # axis: 2 x (16, 4 values)
        [512, 0, 128]
    """
    if not dataflow:
        return None
    process = 0 if layer.kind in _IN_PLACE or (layer.kind.info.data_only and not stream) else 1
    if stream:  # register slices (2 words) of the input stream (input layer) and the output stream (last layer)
        slice_bits = 2 * layer.output_shape[-1] * res_bits
        return 0, 0, process, (0 if layer.inputs else slice_bits) + (slice_bits if last else 0)
    if layer.inputs and layer.kind.info.data_only:
        return 0, 0, process, 0
    bits = layer.n_outputs * res_bits
    if not layer.inputs:
        return 0, bits, process, 0
    return bits, 0, process, 0
