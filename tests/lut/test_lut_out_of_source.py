"""A table built for new sources (the shipped kind) never moves an estimate without support from several
sources, shrinks what it applies by their number, and says exactly what it applied (issue 11, item 4)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models import GraphBuilder, Target
from cost_models.analytical import AnalyticalModel
from cost_models.lut import SHIPPED_TABLE_SETTINGS, LutModel, LutTable, build_table, make_samples
from cost_models.synth_data import SynthRecord
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.errors import CodesignError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

PART = resolve_part("xcu250")
RATIO = 1.5
TOTALS = ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles", "uram")


def _mlp(width: int, bits: int = 16):
    b = GraphBuilder(f"mlp{width}", (16,), FixedType(bits, 6))
    b.add("dense", units=width)
    b.add("activation", function="relu")
    b.add("dense", units=8)
    return b.build()


def _records(sources: int, ratio: float = RATIO) -> list[SynthRecord]:
    """The same MLPs synthesised by ``sources`` sources, each measuring ``ratio`` x the analytical HLS figures."""
    model = AnalyticalModel(Target.HLS)
    out = []
    for s in range(sources):
        for width in (16, 24, 32, 48, 64):
            for rf in (1, 2, 4):
                graph, hw = _mlp(width), HardwareConfig(PART, reuse_factor=rf)
                cost = model.estimate(graph, hw)
                measured = {m: ratio * getattr(cost, m) for m in ("lut", "ff", "dsp", "bram18", "latency_cycles")}
                out.append(
                    SynthRecord(
                        f"test/source{s}",
                        f"mlp{width}",
                        f"s{s}.csv:{len(out) + 2}",
                        "csynth",
                        Target.HLS,
                        graph,
                        hw,
                        measured,
                        False,
                        "Vitis HLS",
                        "2023.2",
                    )
                )
    return out


def _table(sources: int) -> LutTable:
    samples, skipped = make_samples(_records(sources))
    assert not skipped
    return build_table(samples, SHIPPED_TABLE_SETTINGS)


@pytest.fixture(scope="module")
def few() -> LutTable:
    """Fewer sources than a correction needs: the table must not apply it."""
    return _table(SHIPPED_TABLE_SETTINGS.min_sources - 1)


@pytest.fixture(scope="module")
def many() -> LutTable:
    return _table(6)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(4, 128),
    rf=st.sampled_from([1, 2, 4, 8]),
    bits=st.integers(4, 18),
    strategy=st.sampled_from(list(Strategy)),
    io=st.sampled_from(list(IoType)),
)
def test_without_support_the_lut_model_is_the_analytical_model_exactly(
    few: LutTable, width: int, rf: int, bits: int, strategy: Strategy, io: IoType
) -> None:
    graph, hw = _mlp(width, bits), HardwareConfig(PART, reuse_factor=rf, strategy=strategy, io_type=io)
    try:
        base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    except CodesignError as exc:  # an illegal reuse factor for this width: the lut model must raise the same
        with pytest.raises(type(exc)):
            LutModel(Target.HLS, few).estimate(graph, hw)
        return
    cost = LutModel(Target.HLS, few).estimate(graph, hw)
    assert {t: getattr(cost, t) for t in TOTALS} == {t: getattr(base, t) for t in TOTALS}
    assert [dataclasses.astuple(x)[:6] for x in cost.layers] == [dataclasses.astuple(x)[:6] for x in base.layers]
    assert not any(n.startswith("lut: corrected") for n in cost.notes)
    (note,) = [n for n in cost.notes if n.startswith("lut: no support")]
    assert "lut, ff, dsp, bram18, latency_cycles), analytical used" in note


def test_a_correction_several_sources_agree_on_is_applied_shrunk_and_noted(many: LutTable) -> None:
    graph, hw = _mlp(40), HardwareConfig(PART, reuse_factor=2)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    cost = LutModel(Target.HLS, many).estimate(graph, hw)
    # By hand: each of the 6 sources measured 1.5x, so the correction log((1.5a + 1) / (a + 1)) ~ log 1.5 is
    # shrunk by 6 / (6 + 2): a factor 1.5 ** 0.75 = 1.355 (a few hundred LUTs: the +1 offsets are negligible).
    shrink = 6 / (6 + SHIPPED_TABLE_SETTINGS.source_prior)
    expected = RATIO**shrink
    assert cost.lut / base.lut == pytest.approx(expected, rel=0.01)
    assert cost.ff / base.ff == pytest.approx(expected, rel=0.01)
    (note,) = [n for n in cost.notes if n.startswith("lut: corrected")]
    assert note.startswith("lut: corrected by the dense/io_parallel/latency table (90 rows from 6 sources")
    assert "6 with designs near this one" in note
    assert f"lut x{expected:.2f}" in note and f"ff x{expected:.2f}" in note
    assert not any("no support" in n for n in cost.notes)


def test_where_no_source_covers_the_design_the_analytical_figure_stands_and_the_note_says_why(many: LutTable) -> None:
    b = GraphBuilder("wide", (1024,), FixedType(16, 6))
    b.add("dense", units=1024)
    graph, hw = b.build(), HardwareConfig(PART, reuse_factor=1024, strategy=Strategy.RESOURCE)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    cost = LutModel(Target.HLS, many).estimate(graph, hw)
    assert {t: getattr(cost, t) for t in TOTALS} == {t: getattr(base, t) for t in TOTALS}
    (note,) = [n for n in cost.notes if n.startswith("lut: no support")]
    assert "analytical used" in note and f"at least {SHIPPED_TABLE_SETTINGS.min_sources} sources" in note


def test_a_correction_one_source_contradicts_for_most_others_is_not_applied() -> None:
    # 5 sources see 1.5x, 5 see 1/1.5x: no correction helps more held-out sources than it hurts
    records = _records(5) + [dataclasses.replace(r, source=r.source + "b") for r in _records(5, 1 / RATIO)]
    table = build_table(make_samples(records)[0], SHIPPED_TABLE_SETTINGS)
    graph, hw = _mlp(40), HardwareConfig(PART, reuse_factor=2)
    cost = LutModel(Target.HLS, table).estimate(graph, hw)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    assert (cost.lut, cost.ff) == (base.lut, base.ff)
    assert not any(n.startswith("lut: corrected") for n in cost.notes)
