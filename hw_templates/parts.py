"""The FPGA part catalog: device resources the cost models budget against.

Every count is the whole device as the vendor data sheet lists it (not what is left after a shell or
platform takes its share). Sources, one per family (AMD/Xilinx document numbers):

* Zynq-7000: DS190, *Zynq-7000 SoC Data Sheet: Overview*, Zynq-7000S and Zynq-7000 device tables.
* Artix-7, Virtex-7: DS180, *7 Series FPGAs Data Sheet: Overview*, feature summary by device.
* Zynq UltraScale+ MPSoC: DS891, *Zynq UltraScale+ MPSoC Data Sheet: Overview*, device tables.
* Zynq UltraScale+ RFSoC: DS889, *Zynq UltraScale+ RFSoC Data Sheet: Overview*, device tables.
* Kria K26 SOM: DS987, *Kria K26 SOM Data Sheet* (the XCK26 has the resources of a ZU5EV).
* Kintex UltraScale, Kintex/Virtex UltraScale+: DS890, *UltraScale Architecture and Product Data
  Sheet: Overview*, feature summary tables.
* Alveo cards: DS962 (U200/U250), DS963 (U280), DS965 (U50), DS978 (U55C). The card data sheets round
  to thousands; the exact counts are those of the equivalent Virtex UltraScale+ device in DS890
  (XCU200 = VU9P, XCU250 = VU13P, XCU50 = VU35P, XCU280 = XCU55C = VU37P).

``bram18`` counts 18 Kb block RAMs; every catalog family builds them as halves of 36 Kb tiles, so it is
twice the data sheet's "Block RAM (36 Kb)" row. ``uram`` counts 288 Kb UltraRAM blocks.

How to add a part: append one ``_part(...)`` row to ``_ROWS`` with the data sheet numbers and a real
orderable part string (as Vivado spells it), and cite the table in ``_SOURCES`` if the family is new.
The registry tests check every row automatically.

Name resolution: :func:`resolve_part` accepts a short catalog name (``"xcu250"``) or a full part string
as Vivado and hls4ml print it (``"xcu250-figd2104-2L-e"``, ``"xc7z007sclg225-1"``). The returned
:class:`FpgaPart` keeps the string the user gave in :attr:`FpgaPart.full_name` (the catalog default for
a short name); that is the string to hand to hls4ml as ``XilinxPart``/``part``.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from hw_templates.errors import SpecError, UnknownPartError, bad_value, did_you_mean

__all__ = [
    "CATALOG",
    "DSP_FMAX_MHZ",
    "DSP_SLICES",
    "NO_PART_WITHOUT",
    "FpgaPart",
    "declare_part",
    "list_parts",
    "resolve_part",
]

#: Signed multiplier port widths (A x B) of each DSP slice: UG479 (7 Series DSP48E1 Slice, 25x18) and
#: UG579 (UltraScale Architecture DSP Slice, DSP48E2, 27x18).
DSP_SLICES: Mapping[str, tuple[int, int]] = MappingProxyType({"DSP48E1": (25, 18), "DSP48E2": (27, 18)})

#: DSP slice FMAX (MHz) by speed grade, from the "DSP48 Switching Characteristics" tables of the AC/DC
#: data sheets: 7 series DSP48E1 (DS181 Artix-7, DS182 Kintex-7, DS183 Virtex-7, DS187/DS191 Zynq-7000),
#: UltraScale DSP48E2 (DS892 Kintex UltraScale) and UltraScale+ DSP48E2 (DS922 Kintex UltraScale+, DS923
#: Virtex UltraScale+, DS925 Zynq UltraScale+ MPSoC, DS926 RFSoC; Alveo cards are Virtex UltraScale+
#: devices). A rough index of how fast the family's logic is: HLS's operator delays (UG1399
#: "Scheduling": characterised per device and speed grade) shrink about in proportion.
DSP_FMAX_MHZ: Mapping[str, Mapping[int, float]] = MappingProxyType(
    {
        "7series": MappingProxyType({1: 464.0, 2: 550.0, 3: 628.0}),
        "ultrascale": MappingProxyType({1: 580.0, 2: 661.0, 3: 741.0}),
        "ultrascale+": MappingProxyType({1: 645.0, 2: 775.0, 3: 891.0}),
    }
)
_GRADE_RE = re.compile(r"-([123])(?:l[ve]?|e|i)?(?:-|$)")

_COUNT_FIELDS = ("lut", "ff", "dsp", "bram18")
#: Why a part must have DSP slices and block RAM (``uram`` may be 0): every DSP48E1/DSP48E2 device has
#: both, and the cost models and the export assume wide multipliers may go to DSPs and large weight
#: arrays and FIFOs to block RAM.
NO_PART_WITHOUT: Mapping[str, str] = MappingProxyType(
    {
        "dsp": "parts without DSP slices are not supported: multipliers would all have to go to fabric",
        "bram18": "parts without block RAM are not supported: large weights and FIFOs go to BRAM",
    }
)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.+]*$")
# After the device name: nothing, a dash (speed grade / package follow), or a package code such as
# "clg400" written without a dash (7-series style "xc7z020clg400-1").
_REST_RE = re.compile(r"^(?:-.*|[a-z]+\d+.*)?$")


@dataclass(frozen=True)
class FpgaPart:
    """One FPGA device and the resources a design may use.

    Attributes:
        name: short catalog name, lower case (``"xcu250"``).
        family: device family, e.g. ``"zynq-7000"`` or ``"virtex-ultrascale+"``.
        lut: 6-input LUTs.
        ff: CLB flip-flops.
        dsp: DSP slices.
        bram18: 18 Kb block RAMs (2 per 36 Kb tile).
        uram: 288 Kb UltraRAM blocks (0 where the device has none).
        dsp_slice: ``"DSP48E1"`` (7 series, 25x18 multiplier) or ``"DSP48E2"`` (UltraScale/+, 27x18).
        default_full_name: an orderable part string used when only the short name is given.
        source: where the counts come from (data sheet and table), or ``"user-declared"``.
        full_name: the part string for the vendor tools; the one the user gave, else
            ``default_full_name`` (filled in automatically when left empty).

    Example:
        >>> part = resolve_part("xcu250-figd2104-2L-e")
        >>> part.name, part.dsp, part.full_name
        ('xcu250', 12288, 'xcu250-figd2104-2L-e')
    """

    name: str
    family: str
    lut: int
    ff: int
    dsp: int
    bram18: int
    uram: int
    dsp_slice: str
    default_full_name: str
    source: str
    full_name: str = ""

    def __post_init__(self) -> None:
        label = f"part {self.name!r}"
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise SpecError(bad_value("part name", self.name, "lower-case letters, digits, '_', '.' or '+'"))
        for attr in _COUNT_FIELDS:
            _check_count(label, attr, getattr(self, attr), minimum=1)
        _check_count(label, "uram", self.uram, minimum=0)
        if self.dsp_slice not in DSP_SLICES:
            raise SpecError(bad_value(f"{label} dsp_slice", self.dsp_slice, "DSP48E1 or DSP48E2", DSP_SLICES))
        for attr in ("family", "default_full_name", "source"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value.strip():
                raise SpecError(bad_value(f"{label} {attr}", value, "a non-empty string"))
        if not self.full_name:
            object.__setattr__(self, "full_name", self.default_full_name)

    @property
    def dsp_a_bits(self) -> int:
        """Width of the DSP multiplier's wide signed input (25 on DSP48E1, 27 on DSP48E2)."""
        return DSP_SLICES[self.dsp_slice][0]

    @property
    def dsp_b_bits(self) -> int:
        """Width of the DSP multiplier's narrow signed input (18 on both slices)."""
        return DSP_SLICES[self.dsp_slice][1]

    @property
    def speed_grade(self) -> int:
        """Speed grade read from :attr:`full_name` (``-1``/``-2``/``-3``, ``-2L`` counts as 2); 1 when
        the string names none (the slowest commercial grade, the conservative reading)."""
        match = _GRADE_RE.search(self.full_name.lower())
        return int(match.group(1)) if match else 1

    @property
    def dsp_fmax_mhz(self) -> float:
        """Highest clock of a fully pipelined DSP multiply on this family and speed grade
        (:data:`DSP_FMAX_MHZ`); the cost models scale operator delays by it."""
        default = "7series" if self.dsp_slice == "DSP48E1" else "ultrascale+"  # user-declared families
        grades = DSP_FMAX_MHZ[_SPEED_CLASS.get(self.family, default)]
        return grades.get(self.speed_grade, grades[min(grades, key=lambda g: abs(g - self.speed_grade))])

    @property
    def bram36(self) -> int:
        """36 Kb block RAM tiles (each splits into two 18 Kb halves)."""
        return self.bram18 // 2

    def to_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict (inverse of :meth:`from_dict`)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FpgaPart:
        """Rebuild a part from :meth:`to_dict` output; unknown keys are an error."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            fields = list(cls.__dataclass_fields__)
            raise SpecError(bad_value("part field", unknown[0], "one of " + ", ".join(fields), fields))
        return cls(**data)  # type: ignore[arg-type]


def _check_count(label: str, attr: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive integer" if minimum > 0 else "a non-negative integer"
        counted = isinstance(value, int) and not isinstance(value, bool)
        why = f" ({NO_PART_WITHOUT[attr]})" if attr in NO_PART_WITHOUT and counted else ""
        raise SpecError(bad_value(f"{label} {attr}", value, expected + why))


_DS890 = "DS890 (UltraScale Architecture and Product Data Sheet: Overview)"
_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "zynq-7000": "DS190 (Zynq-7000 SoC Data Sheet: Overview), Zynq-7000S/Zynq-7000 device tables",
        "artix-7": "DS180 (7 Series FPGAs Data Sheet: Overview), Artix-7 FPGA feature summary",
        "virtex-7": "DS180 (7 Series FPGAs Data Sheet: Overview), Virtex-7 FPGA feature summary",
        "zynq-ultrascale+": "DS891 (Zynq UltraScale+ MPSoC Data Sheet: Overview), EG/EV device tables",
        "zynq-ultrascale+-rfsoc": "DS889 (Zynq UltraScale+ RFSoC Data Sheet: Overview), device tables",
        "kria": "DS987 (Kria K26 SOM Data Sheet), PL resources (= XCZU5EV in DS891)",
        "kintex-ultrascale": f"{_DS890}, Kintex UltraScale feature summary",
        "kintex-ultrascale+": f"{_DS890}, Kintex UltraScale+ feature summary",
        "virtex-ultrascale+": f"{_DS890}, Virtex UltraScale+ feature summary",
        "u50": f"DS965 (Alveo U50 Data Sheet); exact counts of XCVU35P, {_DS890} (VU+ HBM)",
        "u55c": f"DS978 (Alveo U55C Data Sheet); exact counts of XCVU37P, {_DS890} (VU+ HBM)",
        "u200": f"DS962 (Alveo U200/U250 Data Sheet); exact counts of XCVU9P, {_DS890}",
        "u250": f"DS962 (Alveo U200/U250 Data Sheet); exact counts of XCVU13P, {_DS890}",
        "u280": f"DS963 (Alveo U280 Data Sheet); exact counts of XCVU37P, {_DS890} (VU+ HBM)",
    }
)
_Z7, _A7, _V7 = "zynq-7000", "artix-7", "virtex-7"
_ZUP, _RFSOC, _KRIA = "zynq-ultrascale+", "zynq-ultrascale+-rfsoc", "kria"
_KU, _KUP, _VUP, _ALVEO = "kintex-ultrascale", "kintex-ultrascale+", "virtex-ultrascale+", "alveo"
_SEVEN_SERIES = (_Z7, _A7, _V7)
_SPEED_CLASS = {
    **dict.fromkeys(_SEVEN_SERIES, "7series"),
    _KU: "ultrascale",
    **dict.fromkeys((_ZUP, _RFSOC, _KRIA, _KUP, _VUP, _ALVEO), "ultrascale+"),
}


def _part(name: str, family: str, lut: int, ff: int, dsp: int, bram36: int, uram: int, full: str) -> FpgaPart:
    source_key = name.removeprefix("xc") if family == _ALVEO else family
    dsp_slice = "DSP48E1" if family in _SEVEN_SERIES else "DSP48E2"
    return FpgaPart(name, family, lut, ff, dsp, 2 * bram36, uram, dsp_slice, full, _SOURCES[source_key])


# name, family, LUTs, FFs, DSP slices, 36 Kb block RAMs, UltraRAMs, default orderable part string.
_ROWS = (
    _part("xc7z007s", _Z7, 14_400, 28_800, 66, 50, 0, "xc7z007sclg400-1"),
    _part("xc7z010", _Z7, 17_600, 35_200, 80, 60, 0, "xc7z010clg400-1"),
    _part("xc7z020", _Z7, 53_200, 106_400, 220, 140, 0, "xc7z020clg400-1"),
    _part("xc7z045", _Z7, 218_600, 437_200, 900, 545, 0, "xc7z045ffg900-2"),
    _part("xc7z100", _Z7, 277_400, 554_800, 2_020, 755, 0, "xc7z100ffg900-2"),
    _part("xc7a35t", _A7, 20_800, 41_600, 90, 50, 0, "xc7a35tcpg236-1"),
    _part("xc7a100t", _A7, 63_400, 126_800, 240, 135, 0, "xc7a100tcsg324-1"),
    _part("xc7a200t", _A7, 134_600, 269_200, 740, 365, 0, "xc7a200tsbg484-1"),
    _part("xc7vx690t", _V7, 433_200, 866_400, 3_600, 1_470, 0, "xc7vx690tffg1761-2"),
    _part("xczu3eg", _ZUP, 70_560, 141_120, 360, 216, 0, "xczu3eg-sbva484-1-e"),
    _part("xczu7ev", _ZUP, 230_400, 460_800, 1_728, 312, 96, "xczu7ev-ffvc1156-2-e"),
    _part("xczu9eg", _ZUP, 274_080, 548_160, 2_520, 912, 0, "xczu9eg-ffvb1156-2-e"),
    _part("xczu49dr", _RFSOC, 425_280, 850_560, 4_272, 1_080, 80, "xczu49dr-ffvf1760-2-e"),
    _part("xck26", _KRIA, 117_120, 234_240, 1_248, 144, 64, "xck26-sfvc784-2LV-c"),
    _part("xcku115", _KU, 663_360, 1_326_720, 5_520, 2_160, 0, "xcku115-flvb2104-2-e"),
    _part("xcku5p", _KUP, 216_960, 433_920, 1_824, 480, 64, "xcku5p-ffvb676-2-e"),
    _part("xcku15p", _KUP, 522_720, 1_045_440, 1_968, 984, 128, "xcku15p-ffva1760-2-e"),
    _part("xcvu9p", _VUP, 1_182_240, 2_364_480, 6_840, 2_160, 960, "xcvu9p-flga2104-2L-e"),
    _part("xcvu13p", _VUP, 1_728_000, 3_456_000, 12_288, 2_688, 1_280, "xcvu13p-flga2577-2-e"),
    _part("xcvu19p", _VUP, 4_085_760, 8_171_520, 3_840, 2_160, 320, "xcvu19p-fsva3824-2-e"),
    _part("xcu50", _ALVEO, 871_680, 1_743_360, 5_952, 1_344, 640, "xcu50-fsvh2104-2-e"),
    _part("xcu55c", _ALVEO, 1_303_680, 2_607_360, 9_024, 2_016, 960, "xcu55c-fsvh2892-2L-e"),
    _part("xcu200", _ALVEO, 1_182_240, 2_364_480, 6_840, 2_160, 960, "xcu200-fsgd2104-2-e"),
    _part("xcu250", _ALVEO, 1_728_000, 3_456_000, 12_288, 2_688, 1_280, "xcu250-figd2104-2L-e"),
    _part("xcu280", _ALVEO, 1_303_680, 2_607_360, 9_024, 2_016, 960, "xcu280-fsvh2892-2L-e"),
)

#: Every catalogued part by short name (read-only).
CATALOG: Mapping[str, FpgaPart] = MappingProxyType({p.name: p for p in _ROWS})

_UNKNOWN_EXPECTED = "a known FPGA part (see `codesign list parts`) or a part declared under `parts:`"


def resolve_part(name: str, custom: Mapping[str, FpgaPart] | None = None) -> FpgaPart:
    """Find the part a short name or a full vendor part string refers to.

    Matching is case-insensitive and picks the longest known name that is a prefix of ``name`` and is
    followed by nothing, a ``-`` or a package code (``"xc7z007sclg225-1"``), so ``"xc7z100..."`` never
    matches a shorter name. Parts in ``custom`` (user-declared) are searched too and win over a
    catalog part of the same name.

    Args:
        name: e.g. ``"xcu250"``, ``"XCU250-FIGD2104-2L-E"``, ``"xc7z007s-clg225-2"``.
        custom: user-declared parts by name (see :func:`declare_part`).

    Returns:
        The part; ``full_name`` is ``name`` as given when it was a full part string, else the
        part's ``default_full_name``.

    Raises:
        UnknownPartError: no known or declared part matches.

    Example:
        >>> resolve_part("xczu9eg-ffvb1156-2-e").family
        'zynq-ultrascale+'
    """
    given = str(name).strip()
    known = dict(CATALOG)
    known.update({key.lower(): part for key, part in (custom or {}).items()})
    text = given.lower()
    matches = [key for key in known if text.startswith(key) and _rest_matches(known[key], text[len(key) :])]
    if not matches:
        guess = text.split("-", 1)[0]
        hint = did_you_mean(guess, [_closest_name(guess, sorted(known))])
        raise UnknownPartError(f"part: expected {_UNKNOWN_EXPECTED}, got {given!r}{hint}")
    key = max(matches, key=len)
    part = known[key]
    if text[len(key) :].strip("-"):
        return replace(part, full_name=given)
    return replace(part, full_name=part.default_full_name)


def _rest_matches(part: FpgaPart, rest: str) -> bool:
    """True when ``rest`` (the text after a known device name) completes a part string of that device.

    7-series low-voltage devices carry an ``L`` after the device name (``xc7a200tl-ffg1156-2L``,
    ``xc7k325tlffg900-2L``): DS180 (7 Series FPGAs Data Sheet: Overview), "Ordering Information": the
    ``L`` devices are the base devices at a lower core voltage (``-1L``/``-2L`` speed grades) with the
    same resources, so they resolve to the base part.
    """
    if _REST_RE.match(rest):
        return True
    return part.family in _SEVEN_SERIES and rest.startswith("l") and bool(_REST_RE.match(rest[1:]))


def _closest_name(guess: str, names: list[str]) -> str:
    # difflib alone ties 'xcu205' between 'xcu250' and 'xcu280'; same letters (a transposition) wins.
    def score(name: str) -> tuple[float, float]:
        in_order = difflib.SequenceMatcher(None, guess, name).ratio()
        as_bag = difflib.SequenceMatcher(None, sorted(guess), sorted(name)).ratio()
        return in_order, as_bag

    return max(names, key=score)


def declare_part(
    name: str,
    *,
    lut: int,
    ff: int,
    dsp: int,
    bram18: int,
    uram: int = 0,
    family: str = "custom",
    dsp_slice: str = "DSP48E2",
    full_name: str | None = None,
) -> FpgaPart:
    """Declare a part the catalog lacks (a spec's or config's ``parts:`` section builds these).

    Args:
        name: short name the part is referred to by (stored lower case).
        lut: 6-input LUTs.
        ff: flip-flops.
        dsp: DSP slices.
        bram18: 18 Kb block RAMs.
        uram: 288 Kb UltraRAM blocks.
        family: free-form family label.
        dsp_slice: ``"DSP48E1"`` (7 series) or ``"DSP48E2"`` (UltraScale/+), case-insensitive.
        full_name: the part string for the vendor tools; defaults to ``name``.

    Raises:
        SpecError: a count that is not a positive integer (``uram``: non-negative), a bad name, or an
            unknown DSP slice.

    Example:
        >>> declare_part("myboard", lut=1000, ff=2000, dsp=10, bram18=8).bram36
        4
    """
    if not isinstance(name, str) or not name.strip():
        raise SpecError(bad_value("part name", name, "a non-empty string such as 'xcu250'"))
    slice_name = dsp_slice.upper() if isinstance(dsp_slice, str) else dsp_slice
    short = name.strip().lower()
    return FpgaPart(
        name=short,
        family=family,
        lut=lut,
        ff=ff,
        dsp=dsp,
        bram18=bram18,
        uram=uram,
        dsp_slice=slice_name,  # type: ignore[arg-type]
        default_full_name=full_name or short,
        source="user-declared",
    )


def list_parts(pattern: str = "*") -> list[FpgaPart]:
    """Catalog parts whose short name matches the shell-style ``pattern`` (case-insensitive), by name.

    Example:
        >>> [p.name for p in list_parts("xcu2*")]
        ['xcu200', 'xcu250', 'xcu280']
    """
    wanted = pattern.lower()
    return [CATALOG[key] for key in sorted(CATALOG) if fnmatch.fnmatchcase(key, wanted)]
