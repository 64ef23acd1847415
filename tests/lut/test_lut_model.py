"""The lookup-table cost model end to end on small real graphs, and the fit probability."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models import GraphBuilder, Target, get_cost_model
from cost_models.analytical import AnalyticalModel
from cost_models.lut import LutModel, LutTable, build_table, fit_probability, make_samples, resource_fit_probability
from cost_models.synth_data import SynthRecord
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.errors import CalibrationError, SpecError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

PART = resolve_part("xcu250")
MEASURED_OVER_ANALYTICAL = 1.5


def _mlp(width: int, name: str = "mlp"):
    b = GraphBuilder(name, (16,), FixedType(16, 6))
    b.add("dense", units=width)
    b.add("activation", function="relu")
    b.add("dense", units=8)
    return b.build()


def _hw(rf: int = 1, **changes) -> HardwareConfig:
    return HardwareConfig(PART, reuse_factor=rf, **changes)


def _records() -> list[SynthRecord]:
    """Designs whose 'measured' figures are 1.5x the analytical HLS estimate (a known law)."""
    model = AnalyticalModel(Target.HLS)
    out = []
    for width in (16, 24, 32, 48, 64, 96):
        for rf in (1, 2, 4):
            graph, hw = _mlp(width, f"mlp{width}"), _hw(rf)
            cost = model.estimate(graph, hw)
            measured = {
                m: MEASURED_OVER_ANALYTICAL * getattr(cost, m) for m in ("lut", "ff", "dsp", "bram18", "latency_cycles")
            }
            out.append(
                SynthRecord(
                    source="test/synthetic",
                    model_id=f"mlp{width}",
                    file=f"synthetic.csv:{len(out) + 2}",
                    result_kind="csynth",
                    target=Target.HLS,
                    graph=graph,
                    hw=hw,
                    measured=measured,
                    per_layer=False,
                    tool="Vitis HLS",
                    tool_version="2023.2",
                )
            )
    return out


@pytest.fixture(scope="module")
def table() -> LutTable:
    samples, skipped = make_samples(_records())
    assert not skipped
    return build_table(samples, provenance={"script": "tests"})


def test_a_supported_design_gets_the_learned_correction(table: LutTable) -> None:
    graph, hw = _mlp(40), _hw(2)
    cost = LutModel(Target.HLS, table).estimate(graph, hw)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    assert cost.model == "lut"
    assert cost.lut == pytest.approx(MEASURED_OVER_ANALYTICAL * base.lut, rel=0.02)
    assert cost.ff == pytest.approx(MEASURED_OVER_ANALYTICAL * base.ff, rel=0.02)
    assert any("corrected by the dense/io_parallel/latency table" in n for n in cost.notes)
    assert not any("no support" in n for n in cost.notes)


def test_without_support_the_analytical_figure_stands_and_the_notes_say_so(table: LutTable) -> None:
    b = GraphBuilder("cnn", (32, 4), FixedType(8, 3))
    b.add("conv1d", filters=8, kernel=(3,))
    graph, hw = b.build(), _hw(io_type=IoType.STREAM)
    cost = LutModel(Target.HLS, table).estimate(graph, hw)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    assert (cost.lut, cost.ff, cost.dsp, cost.latency_cycles) == (base.lut, base.ff, base.dsp, base.latency_cycles)
    assert any(
        n.startswith("lut: no support for conv1d/io_stream/latency") and "analytical used" in n for n in cost.notes
    )
    assert all("no table support" in " ".join(layer.notes) for layer in cost.layers)
    for metric, (low, high) in cost.intervals.items():  # never narrower than a factor 1.5 either way
        value = getattr(cost, metric)
        assert high >= (value + 1) * 1.5 - 1 - 1e-6 and low <= max((value + 1) / 1.5 - 1, 0) + 1e-6


@pytest.mark.parametrize("width", [16, 40, 96])
@pytest.mark.parametrize("target", [Target.HLS, Target.SYNTH])
def test_every_estimate_carries_ordered_intervals_around_it(table: LutTable, width: int, target: Target) -> None:
    cost = LutModel(target, table).estimate(_mlp(width), _hw(2))
    assert set(cost.intervals) == {"lut", "ff", "dsp", "bram18", "latency_cycles"}
    for metric, (low, high) in cost.intervals.items():
        value = getattr(cost, metric)
        assert 0 <= low <= value + 1e-9 and value <= high + 1e-9


def test_per_layer_figures_add_up_to_the_corrected_totals(table: LutTable) -> None:
    cost = LutModel(Target.HLS, table).estimate(_mlp(32), _hw(4))
    assert sum(layer.lut for layer in cost.layers) == pytest.approx(cost.lut)
    assert sum(layer.ff for layer in cost.layers) == pytest.approx(cost.ff)


def test_estimate_layer_agrees_with_the_design_estimate(table: LutTable) -> None:
    model, graph, hw = LutModel(Target.HLS, table), _mlp(32), _hw(4)
    cost = model.estimate(graph, hw)
    for layer, expected in zip(graph.layers, cost.layers):
        assert model.estimate_layer(layer, hw.resolve(layer.name), hw, graph) == expected


def test_the_registry_loads_a_user_table_by_path(table: LutTable, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    table.save(path)
    model = get_cost_model(f"lut:{path}", "hls")
    assert isinstance(model, LutModel) and model.table.provenance["script"] == "tests"
    assert model.estimate(_mlp(40), _hw(2)).lut == LutModel(Target.HLS, table).estimate(_mlp(40), _hw(2)).lut


def test_a_missing_table_file_is_a_calibration_error(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="file not found"):
        get_cost_model(f"lut:{tmp_path / 'absent.json'}")


def test_a_table_built_against_another_analytical_model_is_flagged(table: LutTable) -> None:
    stale = dataclasses.replace(table, provenance={**table.provenance, "analytical_fingerprint": "000000000000"})
    cost = LutModel(Target.HLS, stale).estimate(_mlp(40), _hw(2))
    assert any("rebuild" in n for n in cost.notes)


def test_the_model_raises_what_the_analytical_model_raises(table: LutTable) -> None:
    hw = _hw(7, strategy=Strategy.RESOURCE)  # 7 divides neither 16 nor 16 x 40: illegal under Resource
    with pytest.raises(SpecError):
        LutModel(Target.HLS, table).estimate(_mlp(40), hw)


# --- fit probability ---------------------------------------------------------------------------------


def test_fit_probability_of_an_estimate_without_intervals_is_its_fit(table: LutTable) -> None:
    cost = dataclasses.replace(AnalyticalModel(Target.HLS).estimate(_mlp(40), _hw(2)), intervals={})
    for limit in (1e-6, 0.5, 1.0):
        assert fit_probability(cost, limit) == float(cost.fits(limit))


def test_an_estimate_exactly_at_capacity_fits_with_probability_one_half() -> None:
    assert resource_fit_probability(1000.0, (800.0, 1300.0), 1000.0) == pytest.approx(0.5)


def test_the_interval_ends_are_the_five_and_ninety_five_percent_points() -> None:
    assert resource_fit_probability(1000.0, (800.0, 1300.0), 1300.0) == pytest.approx(0.95, abs=1e-9)
    assert resource_fit_probability(1000.0, (800.0, 1300.0), 800.0) == pytest.approx(0.05, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.001, 2.0), st.floats(0.001, 2.0))
def test_fit_probability_never_decreases_with_more_room(table: LutTable, a: float, b: float) -> None:
    cost = LutModel(Target.HLS, table).estimate(_mlp(96), _hw(1))
    small, large = sorted((a, b))
    assert 0.0 <= fit_probability(cost, small) <= fit_probability(cost, large) <= 1.0


def test_fit_probability_is_the_product_over_resources(table: LutTable) -> None:
    cost = LutModel(Target.HLS, table).estimate(_mlp(96), _hw(1))
    limit = 0.002
    expected = math.prod(
        resource_fit_probability(getattr(cost, r), cost.intervals[r], limit * getattr(cost.part, r))
        for r in ("lut", "ff", "dsp", "bram18")
    )
    assert fit_probability(cost, limit) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [0, -0.5, "high", True])
def test_a_bad_max_utilization_is_a_spec_error(table: LutTable, bad: object) -> None:
    cost = LutModel(Target.HLS, table).estimate(_mlp(40), _hw(2))
    with pytest.raises(SpecError, match="max_utilization"):
        fit_probability(cost, bad)  # type: ignore[arg-type]


def test_the_notes_name_each_correction_it_applied(table: LutTable) -> None:
    cost = LutModel(Target.HLS, table).estimate(_mlp(40), _hw(2))
    (note,) = [n for n in cost.notes if n.startswith("lut: corrected by")]
    assert f"lut x{MEASURED_OVER_ANALYTICAL:.2f}" in note and f"ff x{MEASURED_OVER_ANALYTICAL:.2f}" in note


def test_a_table_of_one_source_built_for_new_sources_applies_and_claims_nothing() -> None:
    # The shipped table is cross-fitted by source: a correction seen in one source only is not applied.
    from cost_models.lut import SHIPPED_TABLE_SETTINGS

    samples, _ = make_samples(_records())
    single = build_table(samples, SHIPPED_TABLE_SETTINGS)
    graph, hw = _mlp(40), _hw(2)
    cost = LutModel(Target.HLS, single).estimate(graph, hw)
    base = AnalyticalModel(Target.HLS).estimate(graph, hw)
    assert (cost.lut, cost.ff, cost.latency_cycles) == (base.lut, base.ff, base.latency_cycles)
    assert not any("corrected" in n for n in cost.notes)
    assert any(n.startswith("lut: no support for dense/io_parallel/latency") for n in cost.notes)
