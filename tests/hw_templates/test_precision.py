"""Fixed-point type parsing: every spelling hls4ml and HLS reports use, and clear errors otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw_templates.errors import PrecisionError
from hw_templates.precision import FixedType, parse_precision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ap_fixed<16,6>", FixedType(16, 6)),
        ("ap_fixed<22,12,AP_RND_CONV,AP_SAT>", FixedType(22, 12, rounding="RND_CONV", saturation="SAT")),
        ("fixed<8,1,RND_CONV,SAT>", FixedType(8, 1, rounding="RND_CONV", saturation="SAT")),
        ("ap_ufixed<8,0>", FixedType(8, 0, signed=False)),
        ("ufixed<4,2>", FixedType(4, 2, signed=False)),
        ("ap_int<8>", FixedType(8, 8)),
        ("ap_uint<4>", FixedType(4, 4, signed=False)),
        ("int<3>", FixedType(3, 3)),
        (" ap_fixed< 16 , 6 > ", FixedType(16, 6)),
        (8, FixedType(8, 4)),
        ("5", FixedType(5, 3)),
    ],
)
def test_parses_hls4ml_spellings(text: str | int, expected: FixedType) -> None:
    assert parse_precision(text) == expected


@pytest.mark.parametrize(
    "text",
    ["ap_fixed<16>", "ap_fixed<16,6", "float", "ap_fixed<0,0>", "ap_fixed<8,3,AP_BAD>", 0, 1025, "ap_fixed<1025,6>"],
)
def test_rejects_malformed_precision_with_one_line(text: str | int) -> None:
    with pytest.raises(PrecisionError) as err:
        parse_precision(text)
    assert "\n" not in str(err.value)
    assert "expected" in str(err.value)


def test_unknown_mode_suggests_the_closest() -> None:
    with pytest.raises(PrecisionError, match="did you mean 'RND_CONV'"):
        parse_precision("ap_fixed<8,3,AP_RND_CONVV,AP_SAT>")


@given(
    width=st.integers(1, 64),
    integer=st.integers(-8, 70),
    signed=st.booleans(),
    rounding=st.sampled_from(["TRN", "RND", "RND_CONV"]),
    saturation=st.sampled_from(["WRAP", "SAT", "SAT_SYM"]),
)
def test_to_hls_round_trips(width: int, integer: int, signed: bool, rounding: str, saturation: str) -> None:
    fixed = FixedType(width, integer, signed, rounding, saturation)
    assert parse_precision(fixed.to_hls()) == fixed
