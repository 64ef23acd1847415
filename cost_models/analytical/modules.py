"""io_parallel: every layer is its own pipelined module in the design's top, so it costs whole cycles.

Mechanism: hls4ml writes each layer as a call of a layer function (``nnet::dense_latency``,
``nnet::relu``, ``nnet::softmax_stable``...) from the top function ``myproject``; each layer function
carries its own ``#pragma HLS PIPELINE`` (``nnet_dense_latency.h``: ``II=CONFIG_T::reuse_factor``;
``nnet_activation.h``) and none is marked ``INLINE`` (hls4ml v0.5-v1.3). Vivado HLS and Vitis HLS keep
such pipelined functions as sub-modules: the csynth reports list every layer as an *instance* with its
own latency, and the top registers each instance's output (``layer2_out_V_0_reg`` ... in the top's
register table) before the next instance reads it. HLS cannot chain operators across that boundary,
so a layer whose operator chain (:mod:`.timing`) spans more than one clock cycle costs whole cycles:
its own pipeline, ``ceil(chain)``, plus the top's register on its output (:data:`BOUNDARY_CYCLES`). A
layer whose whole chain fits in one cycle is a combinational instance (latency 0) and chains with its
neighbours.

Seen in the instance tables of the csynth reports of four sources (their per-layer latencies, not only
the design totals): ArgyKokk/hls4ml_MLP_estimator (Vitis HLS 2021.1, 3.33-5 ns: e.g. Dense 21->3 6
cycles, ReLU 1, Dense 3->3 4, softmax 13, top 29 = 24 + one register per instance + 1),
tanvirana/heterogeneous-hls4ml-testing (Vivado HLS 2020.1, jet tagger: 6/5/6/5 cycles per dense
instance, softmax 14, ReLUs 0, top 47 = 36 + 11), Thifjj/Iris_hls4ml_pynqZ2 (Vitis HLS 2025.1: 23 + 9)
and k-diep/CE6370 (Vitis HLS 2023.2: instances 1/0/1/0/0/4, top 10);
Alezander9/ML_FPGAonPixel's 25 ns designs (Vitis HLS 2023.1) show the other case: seven instances of
latency 0 and a top latency of 1 cycle. The previous model summed fractional cycles across layers as
if HLS inlined them, and was 2-3x low on every small Latency MLP of those sources.

A module's interval: a layer pipelined at ``II = reuse_factor`` whose pipeline is shorter than that
interval is not pipelined at all. HLS schedules the function sequentially and the instance starts again
one cycle after it finishes, ``interval = latency + 1``: every Latency-strategy instance at RF 100 in the
ArgyKokk reports (Vitis HLS 2021.1) shows exactly that (Dense 21->3: latency 37, interval 38; the top's
interval is its slowest instance's, 24-49 cycles, not 100), while the HAR first layer, whose 192-cycle
schedule is longer than 100, keeps ``II = 100``.

io_stream designs are unaffected (their layers are DATAFLOW processes, :mod:`.stream`).
"""

from __future__ import annotations

from cost_models.analytical._num import Num, ceil, minimum, where

__all__ = ["BOUNDARY_CYCLES", "module_cycles", "module_interval"]

#: The register the top puts on a (non-combinational) instance's output before the next instance reads it.
BOUNDARY_CYCLES = 1.0


def module_cycles(chain_cycles: Num) -> Num:
    """Cycles an io_parallel layer adds to the design's critical path, from its own latency.

    Args:
        chain_cycles: the layer's latency as its operators chain (fractional cycles; whole cycles for
            loops and memories), scalar or array.

    Returns:
        ``chain_cycles`` where it fits in one cycle (a combinational instance chains with its
        neighbours), else ``ceil(chain_cycles) + BOUNDARY_CYCLES``: the module's pipeline and the
        register on its output.

    Example:
        >>> module_cycles(0.4), module_cycles(2.3), module_cycles(5.0)
        (0.4, 4.0, 6.0)
    """
    return where(chain_cycles <= 1.0, chain_cycles, ceil(chain_cycles) + BOUNDARY_CYCLES)


def module_interval(ii: Num, latency: Num) -> Num:
    """Interval of an io_parallel layer module: its pipeline interval, or ``latency + 1`` when that is
    shorter (module docstring).

    Example:
        >>> module_interval(100, 37.0), module_interval(2, 5.0), module_interval(1, 0.3)
        (38.0, 2, 1)
    """
    return minimum(ii, ceil(latency) + 1.0)
