"""Designs HLS does not build as written: the array-partition limit of fully unrolled layers.

Mechanism: under the Latency strategy every dense/convolution unit is fully unrolled and its
``mult``/``acc`` arrays (``n_in * n_out`` and ``n_out`` elements, ``nnet_dense_latency.h``) are
completely partitioned (``#pragma HLS ARRAY_PARTITION ... complete``), as are io_parallel layer inputs.
hls4ml's ``build_prj.tcl`` caps complete partitioning with ``config_array_partition -maximum_size 4096``
(``MaximumSize``, hls4ml v0.8-v1.3). Vivado HLS enforces it: a larger array stops synthesis
(XFORM 203-103) or unrolling (XFORM 203-504; hls4ml issue #1013). Vitis HLS ignores the option
(:mod:`hw_templates.tools`) and builds such layers, but with a longer schedule than a fully pipelined
one: the ArgyKokk Vitis HLS 2021.1 rows with 10,976- and 11,220-product first layers took 87-229
cycles where this model gives 15-21. Either way the estimate is of a design the tool does not build
as priced, so the layer gets a warning naming it and the limit (``LayerCost.notes``, repeated in the
design's notes).
"""

from __future__ import annotations

from cost_models.ir import Layer
from hw_templates.tools import HlsTool

__all__ = ["PARTITION_LIMIT", "unroll_warnings"]

#: hls4ml's default ``MaximumSize`` (``config_array_partition -maximum_size``), v0.8-v1.3 writers.
PARTITION_LIMIT = 4096


def unroll_warnings(layer: Layer, latency_strategy: bool, tool: HlsTool | None) -> tuple[str, ...]:
    """Warnings for a layer whose fully unrolled arrays exceed the partition limit (module docstring)."""
    if not latency_strategy or not layer.kind.has_weights:
        return ()
    products = max(n_in * n_out for n_in, n_out in layer.mult_units())
    if products <= PARTITION_LIMIT:
        return ()
    head = (
        f"warning: layer {layer.name!r} unrolls {products:,} products under the Latency strategy, above "
        f"hls4ml's array-partition limit of {PARTITION_LIMIT:,} (config_array_partition -maximum_size)"
    )
    if tool is not None and tool.partition_limit is not None:
        return (f"{head}: {tool.tool} {tool.version} refuses to build it; use the Resource strategy",)
    return (
        f"{head}: Vivado HLS refuses it, Vitis HLS builds it with a longer schedule than estimated "
        "(5-14x in measured designs); prefer the Resource strategy",
    )
