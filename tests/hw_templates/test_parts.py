"""The part catalog: every entry is checked automatically; names resolve the way vendor tools print them."""

from __future__ import annotations

import pytest

from hw_templates import FpgaPart, declare_part, list_parts, resolve_part
from hw_templates.errors import SpecError, UnknownPartError
from hw_templates.parts import CATALOG

REQUIRED = [
    "xc7z007s",
    "xc7z020",
    "xc7z100",
    "xc7a200t",
    "xc7vx690t",
    "xczu7ev",
    "xczu9eg",
    "xczu49dr",
    "xck26",
    "xcku115",
    "xcku15p",
    "xcvu9p",
    "xcvu13p",
    "xcu50",
    "xcu55c",
    "xcu200",
    "xcu250",
    "xcu280",
]


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_entry_is_complete_and_cited(name: str) -> None:
    part = CATALOG[name]
    assert part.name == name
    assert min(part.lut, part.ff, part.dsp, part.bram18) > 0 and part.uram >= 0
    assert part.source.strip() and part.source.startswith("DS")
    assert part.full_name == part.default_full_name
    assert part.default_full_name.lower().startswith(name)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_counts_follow_the_fabric(name: str) -> None:
    part = CATALOG[name]
    # Every catalog family builds 18 Kb RAMs as halves of 36 Kb tiles, and its CLBs hold two flip-flops
    # per LUT (UG474 for 7 series, UG574 for UltraScale/+).
    assert part.bram18 % 2 == 0 and part.bram36 * 2 == part.bram18
    assert part.ff == 2 * part.lut
    seven_series = part.family in ("zynq-7000", "artix-7", "virtex-7")
    assert part.dsp_slice == ("DSP48E1" if seven_series else "DSP48E2")
    assert (part.dsp_a_bits, part.dsp_b_bits) == ((25, 18) if seven_series else (27, 18))
    if seven_series:
        assert part.uram == 0


def test_catalog_covers_the_required_parts() -> None:
    assert set(REQUIRED) <= set(CATALOG)


def test_alveo_cards_match_their_virtex_devices() -> None:
    same = {"xcu200": "xcvu9p", "xcu250": "xcvu13p", "xcu280": "xcu55c"}
    fields = ("lut", "ff", "dsp", "bram18", "uram")
    for card, device in same.items():
        assert [getattr(CATALOG[card], f) for f in fields] == [getattr(CATALOG[device], f) for f in fields]


def test_u250_has_the_documented_resources() -> None:
    part = resolve_part("xcu250")
    assert (part.lut, part.ff, part.dsp, part.bram18, part.uram) == (
        1_728_000,
        3_456_000,
        12_288,
        5_376,
        1_280,
    )


@pytest.mark.parametrize("name", REQUIRED)
def test_short_name_resolves_to_the_default_part_string(name: str) -> None:
    part = resolve_part(name)
    assert part.name == name
    assert part.full_name == part.default_full_name


@pytest.mark.parametrize(
    ("given", "short"),
    [
        ("xcu250-figd2104-2L-e", "xcu250"),
        ("xc7z007sclg225-1", "xc7z007s"),
        ("xc7z007s-clg225-2", "xc7z007s"),
        ("xczu9eg-ffvb1156-2-e", "xczu9eg"),
        ("xck26-sfvc784-2LV-c", "xck26"),
        ("xcvu9p-flgb2104-2-i", "xcvu9p"),
        ("xczu7ev-ffvc1156-2-e", "xczu7ev"),
        ("xcku115-flvb2104-2-e", "xcku115"),
        ("xc7z100ffg900-2", "xc7z100"),
        ("xc7z010clg400-1", "xc7z010"),
        ("xc7a35ticsg324-1L", "xc7a35t"),
        ("xcu55c-fsvh2892-2L-e", "xcu55c"),
    ],
)
def test_full_part_string_resolves_and_is_kept(given: str, short: str) -> None:
    part = resolve_part(given)
    assert part.name == short
    assert part.full_name == given
    assert part.lut == CATALOG[short].lut


@pytest.mark.parametrize("given", ["XCU250", "XcU250-FIGD2104-2L-E", "  xcu250  "])
def test_resolution_ignores_case_and_surrounding_space(given: str) -> None:
    assert resolve_part(given).name == "xcu250"


def test_longest_catalog_name_wins() -> None:
    assert resolve_part("xc7z100ffg900-2").name == "xc7z100"
    assert resolve_part("xc7z010clg400-1").name == "xc7z010"
    # "xc7z007" + package-like "sclg225" would also fit; the longer "xc7z007s" must win.
    shorter = declare_part("xc7z007", lut=10, ff=20, dsp=1, bram18=2)
    assert resolve_part("xc7z007sclg225-1", {"xc7z007": shorter}).name == "xc7z007s"
    assert resolve_part("xc7z007-clg225-1", {"xc7z007": shorter}).name == "xc7z007"


@pytest.mark.parametrize(
    ("given", "short"),
    [("xc7a200tl-ffg1156-2L", "xc7a200t"), ("xc7a100tlcsg324-2L", "xc7a100t"), ("XC7A35TL-CPG236-2L", "xc7a35t")],
)
def test_low_voltage_7series_variant_has_its_base_parts_resources(given: str, short: str) -> None:
    part = resolve_part(given)
    assert (part.name, part.lut, part.ff, part.dsp, part.bram18) == (
        short, CATALOG[short].lut, CATALOG[short].ff, CATALOG[short].dsp, CATALOG[short].bram18,
    )  # fmt: skip
    assert part.full_name == given.strip()


@pytest.mark.parametrize("given", ["xc7a200tlx-ffg1156", "xcu250l-figd2104-2L-e", "xczu7evl-ffvc1156-2-e"])
def test_only_a_single_l_after_a_7series_device_is_a_low_voltage_variant(given: str) -> None:
    with pytest.raises(UnknownPartError):
        resolve_part(given)


@pytest.mark.parametrize("given", ["xcu2500", "xc7z0200", "xcu25", "xcvu9", ""])
def test_name_followed_by_more_digits_is_not_a_match(given: str) -> None:
    with pytest.raises(UnknownPartError):
        resolve_part(given)


def test_unknown_part_message_is_one_line_with_a_suggestion() -> None:
    with pytest.raises(UnknownPartError) as info:
        resolve_part("xcu205")
    message = str(info.value)
    assert message == (
        "part: expected a known FPGA part (see `codesign list parts`) or a part declared under "
        "`parts:`, got 'xcu205' (did you mean 'xcu250'?)"
    )
    assert "\n" not in message


def test_unknown_full_string_still_gets_a_suggestion() -> None:
    with pytest.raises(UnknownPartError, match=r"did you mean 'xczu9eg'"):
        resolve_part("xczu9cg-ffvb1156-2-e")


def test_declared_part_resolves_and_shadows_the_catalog() -> None:
    mine = declare_part("MyBoard", lut=1000, ff=2000, dsp=10, bram18=8, full_name="xc7z020clg484-1")
    assert mine.name == "myboard" and mine.source == "user-declared"
    assert resolve_part("myboard", {"myboard": mine}) == mine
    override = declare_part("xcu250", lut=1, ff=2, dsp=3, bram18=4)
    assert resolve_part("xcu250", {"xcu250": override}).lut == 1
    assert resolve_part("xcu250").lut == 1_728_000


def test_declared_part_defaults() -> None:
    part = declare_part("board", lut=1, ff=1, dsp=1, bram18=1, dsp_slice="dsp48e1")
    assert (part.uram, part.family, part.dsp_slice, part.full_name) == (0, "custom", "DSP48E1", "board")
    assert part.dsp_a_bits == 25


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"lut": 0}, "part 'board' lut: expected a positive integer, got 0"),
        ({"ff": -5}, "part 'board' ff: expected a positive integer, got -5"),
        ({"dsp": 1.5}, "part 'board' dsp: expected a positive integer, got 1.5"),
        ({"bram18": True}, "part 'board' bram18: expected a positive integer, got True"),
        ({"uram": -1}, "part 'board' uram: expected a non-negative integer, got -1"),
        ({"dsp_slice": "DSP58"}, "part 'board' dsp_slice: expected DSP48E1 or DSP48E2, got 'DSP58'"),
    ],
)
def test_declare_part_rejects_bad_values_in_one_line(overrides: dict[str, object], fragment: str) -> None:
    kwargs: dict[str, object] = {"lut": 10, "ff": 20, "dsp": 1, "bram18": 2, **overrides}
    with pytest.raises(SpecError) as info:
        declare_part("board", **kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(fragment)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["", "   ", "my-board", "my board"])
def test_declare_part_rejects_bad_names(name: str) -> None:
    with pytest.raises(SpecError, match="part name"):
        declare_part(name, lut=1, ff=1, dsp=1, bram18=1)


def test_list_parts_filters_by_pattern_and_sorts() -> None:
    assert [p.name for p in list_parts("xcu*")] == ["xcu200", "xcu250", "xcu280", "xcu50", "xcu55c"]
    assert [p.name for p in list_parts("XC7Z*")] == ["xc7z007s", "xc7z010", "xc7z020", "xc7z045", "xc7z100"]
    everything = list_parts()
    assert [p.name for p in everything] == sorted(CATALOG)
    assert list_parts("nothing*") == []


def test_part_round_trips_through_a_dict() -> None:
    part = resolve_part("xczu7ev-ffvc1156-1-i")
    assert FpgaPart.from_dict(part.to_dict()) == part
    with pytest.raises(SpecError, match="part field: expected one of"):
        FpgaPart.from_dict({**part.to_dict(), "luts": 3})
