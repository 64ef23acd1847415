"""First-order power: static + dynamic from resource counts, clock and toggle rate. ROUGH.

No power measurement backs these figures; they give the right order of magnitude to compare
candidates, not a sign-off number (use Vivado's ``report_power`` for that).

* Dynamic power ``P = sum_r N_r * f_MHz * (toggle / 0.125) * e_r`` with per-resource figures ``e_r``
  in microwatts per MHz at AMD XPE's default activity (UG440, "Using the Logic Sheet": toggle rate
  12.5 %, average fan-out 3, "based on an average extracted from a suite of customer designs").
  The ``e_r`` values (:attr:`~.constants.AnalyticalConstants.power_uw_per_mhz`: LUT 0.03, FF 0.008,
  DSP 3, BRAM18 8 uW/MHz) are order-of-magnitude assumptions for 16-28 nm AMD devices at XPE
  defaults, chosen so that 100k LUTs at 250 MHz come to ~0.75 W of logic and signal power.
* Static power scales with device size: :attr:`~.constants.AnalyticalConstants.power_static_w_per_klut`
  (2.1 mW per thousand device LUTs: ~2.5 W for an XCVU9P, ~0.11 W for an XC7Z020 at 25 C junction,
  typical process), an assumption of the same kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from cost_models.analytical.constants import AnalyticalConstants
from hw_templates.parts import FpgaPart

__all__ = ["POWER_NOTE", "power_w"]

#: The label every power figure carries.
POWER_NOTE = "power_w is a rough first-order estimate (XPE-default activity, assumed per-resource figures)"

_XPE_DEFAULT_TOGGLE = 0.125


def power_w(totals: Mapping[str, float], part: FpgaPart, clock_ns: float, consts: AnalyticalConstants) -> float:
    """Static + dynamic power in watts of a design using ``totals`` resources on ``part``.

    Example:
        >>> from hw_templates import resolve_part
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> round(power_w({"lut": 100_000, "ff": 0, "dsp": 0, "bram18": 0}, resolve_part("xcvu9p"), 4.0, C), 2)
        3.23
    """
    f_mhz = 1000.0 / clock_ns
    activity = consts.power_toggle_rate / _XPE_DEFAULT_TOGGLE
    dynamic_uw = sum(totals.get(r, 0.0) * e for r, e in consts.power_uw_per_mhz.items()) * f_mhz * activity
    static = consts.power_static_w_per_klut * part.lut / 1000.0
    return static + dynamic_uw * 1e-6
