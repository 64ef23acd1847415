"""Fixed-point types as hls4ml and the HLS ``ap_types`` library spell them.

``FixedType`` is the one typed form of a precision inside the toolkit. It parses every spelling a user
meets in hls4ml configs and reports: ``ap_fixed<16,6>``, ``ap_fixed<22,12,AP_RND_CONV,AP_SAT>``,
``fixed<8,1,RND_CONV,SAT>`` (hls4ml's backend-neutral form), ``ap_ufixed<8,0>``, ``ap_int<8>``,
``ap_uint<4>``, ``int<8>`` and a bare bit width (``8``: a signed fixed-point number whose integer part
is ``ceil(width/2)`` bits; only the width matters to the cost models, give a full type when the split
matters, e.g. for export).

Rounding and saturation modes are those of the Vivado/Vitis HLS arbitrary-precision types
(UG1399, "Arbitrary Precision Data Types Library": AP_TRN, AP_TRN_ZERO, AP_RND, AP_RND_ZERO,
AP_RND_INF, AP_RND_MIN_INF, AP_RND_CONV; AP_WRAP, AP_SAT, AP_SAT_ZERO, AP_SAT_SYM).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hw_templates.errors import PrecisionError, bad_value

__all__ = ["MAX_WIDTH", "FixedType", "parse_precision"]

#: Widest type accepted: the ap_types library's default limit (``AP_INT_MAX_W`` 1024, UG1399 "Arbitrary
#: Precision Data Types Library"). hls4ml's automatic types reach beyond 64 bits (a depthwise + pointwise
#: chain with ``auto`` accumulators got a 78-bit result type in the calibration data), so a lower limit
#: would refuse designs the tools build.
MAX_WIDTH = 1024

ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
SATURATION_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

_TYPE_RE = re.compile(r"^\s*(?P<prefix>ap_)?(?P<u>u)?(?P<kind>fixed|int)\s*<\s*(?P<args>[^<>]*)>\s*$", re.IGNORECASE)
_EXPECTED = (
    "an hls4ml type such as 'ap_fixed<16,6>', 'ap_fixed<22,12,AP_RND_CONV,AP_SAT>', "
    "'fixed<8,1,RND_CONV,SAT>', 'ap_int<8>', 'ap_uint<4>' or a bit width 1..1024"
)


@dataclass(frozen=True, order=True)
class FixedType:
    """A fixed-point (or integer) number format.

    Attributes:
        width: total bits, including the sign bit.
        integer: bits left of the binary point, including the sign bit (may be negative or > width,
            as in ap_fixed).
        signed: two's complement when True.
        rounding: quantization mode without the ``AP_`` prefix (``TRN`` truncates, the HLS default).
        saturation: overflow mode without the ``AP_`` prefix (``WRAP`` is the HLS default).

    Example:
        >>> FixedType.parse("ap_fixed<16,6>").width
        16
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    saturation: str = "WRAP"

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_WIDTH:
            raise PrecisionError(bad_value("precision width", self.width, f"1..{MAX_WIDTH} bits"))
        if self.rounding not in ROUNDING_MODES:
            raise PrecisionError(bad_value("rounding mode", self.rounding, "an AP_* mode", ROUNDING_MODES))
        if self.saturation not in SATURATION_MODES:
            raise PrecisionError(bad_value("saturation mode", self.saturation, "an AP_* mode", SATURATION_MODES))

    @property
    def fractional(self) -> int:
        """Bits right of the binary point."""
        return self.width - self.integer

    @property
    def is_integer(self) -> bool:
        """True for a type with no fractional bits (``ap_int``)."""
        return self.integer == self.width

    @classmethod
    def parse(cls, text: str | int) -> FixedType:
        """Parse any accepted spelling (see the module docstring); raise PrecisionError otherwise."""
        return parse_precision(text)

    def to_hls(self) -> str:
        """The ``ap_*`` spelling, with modes only where they differ from the defaults."""
        base = "ap_" + ("" if self.signed else "u")
        if self.is_integer and self.rounding == "TRN" and self.saturation == "WRAP":
            return f"{base}int<{self.width}>"
        args = [str(self.width), str(self.integer)]
        if self.rounding != "TRN" or self.saturation != "WRAP":
            args += [f"AP_{self.rounding}", f"AP_{self.saturation}"]
        return f"{base}fixed<{','.join(args)}>"

    def __str__(self) -> str:
        return self.to_hls()


def _from_width(width: int, text: object) -> FixedType:
    if isinstance(width, bool) or not 1 <= width <= MAX_WIDTH:
        raise PrecisionError(bad_value("precision", text, _EXPECTED))
    return FixedType(width, math.ceil(width / 2))


def _mode(token: str, allowed: tuple[str, ...], what: str, text: str) -> str:
    mode = token.strip().upper().removeprefix("AP_")
    if mode not in allowed:
        raise PrecisionError(bad_value(f"precision {text!r} {what}", token.strip(), "an AP_* mode", allowed))
    return mode


def parse_precision(text: str | int) -> FixedType:
    """Parse a precision given as an hls4ml type string or a bare bit width.

    Raises:
        PrecisionError: one line naming the bad text and the accepted forms.
    """
    if isinstance(text, FixedType):
        return text
    if isinstance(text, int):
        return _from_width(text, text)
    if not isinstance(text, str):
        raise PrecisionError(bad_value("precision", text, _EXPECTED))
    if text.strip().isdigit():
        return _from_width(int(text), text)
    match = _TYPE_RE.match(text)
    if not match:
        raise PrecisionError(bad_value("precision", text, _EXPECTED))
    args = [a for a in match["args"].split(",")]
    try:
        width = int(args[0])
        integer = width if match["kind"].lower() == "int" else int(args[1])
    except (ValueError, IndexError):
        raise PrecisionError(bad_value("precision", text, _EXPECTED)) from None
    n_numeric = 1 if match["kind"].lower() == "int" else 2
    modes = args[n_numeric:]
    if len(modes) > 3 or (match["kind"].lower() == "int" and modes):
        raise PrecisionError(bad_value("precision", text, _EXPECTED))
    rounding = _mode(modes[0], ROUNDING_MODES, "rounding", text) if modes else "TRN"
    saturation = _mode(modes[1], SATURATION_MODES, "saturation", text) if len(modes) > 1 else "WRAP"
    return FixedType(width, integer, signed=not match["u"], rounding=rounding, saturation=saturation)
