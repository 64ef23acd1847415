"""Where HLS puts pipeline registers: operator chains cut at the clock period, per device family.

Mechanism (UG1399 "Scheduling" and "Pipelining"; UG902 for Vivado HLS): the scheduler chains
operators inside one clock cycle while their summed delay fits the clock period minus the clock
uncertainty, and registers every value that is alive where a cycle ends. Operator delays are
characterised per device and speed grade; here they are fitted once (in the ns of a reference device,
a 7-series -2 at :data:`REFERENCE_DSP_FMAX_MHZ`) and scaled by the part's DSP FMAX
(:attr:`hw_templates.parts.FpgaPart.dsp_fmax_mhz`, from the AC/DC data sheets), so an UltraScale+ -2
part (775 MHz) gets ~1.4x as much logic per cycle as a 7-series -2 and ~1.7x as much as a 7-series -1.

For a latency-strategy matrix-vector unit, each output is a product followed by a balanced adder tree
over its fan-in (``nnet_dense_latency.h``'s ``acc[jj] += mult[index]``, fully unrolled). The first cycle
holds the product and as many tree levels as fit; every following cycle ``k = budget / t_add`` levels.
The values alive at a cut at tree level ``l`` are ``fan_in / 2**l`` per output, so the registers per
product are ``sum_j 2**-(l_1 + j*k)``: about one per product when a cycle ends right after the product,
a few per output when only the top of the tree crosses a cycle, and none when the whole chain fits in
one cycle (relaxed clocks: a 25 ns design on an UltraScale+ part is combinational, and its csynth FF
count is its input and output registers only).
"""

from __future__ import annotations

import numpy as np

from cost_models.analytical._num import Num, ceil, floor, maximum, minimum, where
from hw_templates.parts import FpgaPart

__all__ = ["CYCLE_GRAIN", "REFERENCE_DSP_FMAX_MHZ", "clock_budget_ns", "cycles", "latency_budget_ns", "tree_registers"]

#: DSP FMAX of the reference device the fitted delays are expressed in (7-series -2, DS181-DS191).
REFERENCE_DSP_FMAX_MHZ = 550.0
#: Cuts summed per adder tree (a 2**16-input tree has 16 levels; more never occur in hls4ml layers).
_MAX_CUTS = 16


#: Fractions of a cycle a chained operator's share is rounded up to: a power of two, so sums of per-layer
#: latencies are exact in floating point (the hardware search adds them layer by layer and compares).
CYCLE_GRAIN = 1 / 64


def cycles(share: Num) -> Num:
    """A share of a clock cycle, rounded up to :data:`CYCLE_GRAIN`."""
    return ceil(share / CYCLE_GRAIN) * CYCLE_GRAIN


def clock_budget_ns(clock_ns: float, uncertainty_ns: float, part: FpgaPart) -> float:
    """The clock period minus uncertainty, in reference-device ns (longer on faster families)."""
    return max(clock_ns - uncertainty_ns, 0.1) * part.dsp_fmax_mhz / REFERENCE_DSP_FMAX_MHZ


def latency_budget_ns(budget_ns: float, part: FpgaPart, speedup: float) -> float:
    """:func:`clock_budget_ns` for the latency of operator chains, with the family's logic speed-up.

    The DSP-FMAX ratio (UltraScale+ -2 / 7-series -2 = 775 / 550 = 1.41) understates how much faster
    HLS's characterised fabric operators are on UltraScale/UltraScale+ parts: the csynth instance
    latencies of the same layer shapes at the same clock differ by far more. ArgyKokk (Vitis HLS 2021.1,
    xc7z007s-2, 5 ns): Dense 20->64 4 cycles, softmax over 10 values 14 cycles; k-diep (Vitis HLS 2023.2,
    xcu250-2L, 5 ns): Dense 6-bit 16->16 1 cycle, softmax over 10 values 4 cycles; tanvirana and Thifjj
    (xc7z020-1) against Alezander9 / Lrozzy (xcvu13p / xcu50) likewise. ``speedup``
    (:attr:`~.constants.AnalyticalConstants.ultrascale_logic_speedup`) is fitted on the csynth latencies,
    the family is the part's DSP slice (DSP48E1: 7 series; DSP48E2: UltraScale, UltraScale+).

    Where the cuts fall: the pipeline registers of a Latency-strategy matrix-vector unit (its products and
    adder tree, :func:`tree_registers` in ``matvec._latency_unit``) sit where the scheduler ends a cycle,
    and those cycles are the ones its latency counts, so they are cut at this budget too (one schedule,
    one set of delays). With :func:`clock_budget_ns` instead, an UltraScale+ design got the registers of a
    schedule ~2.5x deeper than the one its latency was fitted to, the fitted FF coefficient per pipeline
    bit fell to its lower bound (0.2-0.3 FF per register bit in every leave-one-source-out fold) and the
    7-series designs came out ~3x low (ArgyKokk, Vitis HLS 2021.1, xc7z007s: estimate / measured 0.34);
    with this budget the coefficient is ~1 FF per register bit in every fold (0.75-1.34), as a register
    count should be (``scripts/bench_cost_model.py``, docs/cost_models.md). The other register features
    (layer input/output registers, comparator layers) keep :func:`clock_budget_ns`: moving them too was
    measured worse out of source.

    Example:
        >>> from hw_templates import resolve_part
        >>> latency_budget_ns(4.0, resolve_part("xc7z020"), 2.0), latency_budget_ns(4.0, resolve_part("xcu250"), 2.0)
        (4.0, 8.0)
    """
    return budget_ns * speedup if part.dsp_slice == "DSP48E2" else budget_ns


def tree_registers(t_first: Num, t_add: float, levels: Num, budget: float) -> Num:
    """Registers per product of a product + adder tree chain (module docstring), in product widths.

    Args:
        t_first: delay of the product (ns, reference device); longer than ``budget`` means the
            product itself spans cycles (each extra cycle registers it once more).
        t_add: delay of one adder level.
        levels: adder tree levels above the products (``ceil(log2(fan_in))``).
        budget: :func:`clock_budget_ns`.

    Example:
        >>> float(tree_registers(1.0, 1.0, 4, 100.0))  # everything in one cycle: no register
        0.0
        >>> float(tree_registers(1.0, 1.0, 4, 1.5))  # a cut after every level, 1 + 1/2 + 1/4 + 1/8
        1.875
    """
    per_cycle = maximum(floor(budget / t_add), 1)
    product_cycles = maximum(ceil(t_first / budget), 1)
    first = floor((product_cycles * budget - t_first) / t_add)  # levels done in the product's last cycle
    total: Num = product_cycles - 1
    if first.__class__ is not np.ndarray and levels.__class__ is not np.ndarray:  # scalar: stop at the top
        level = first
        while level < levels and level < _MAX_CUTS:
            total += 0.5**level
            level += per_cycle
        return total
    for j in range(_MAX_CUTS):
        level = first + j * per_cycle
        total = total + where(level < levels, 0.5**level, 0.0)
    return minimum(total, float(_MAX_CUTS))
