"""Recurrent layers (LSTM, GRU): IR shapes, counters, the analytical mechanism checked by hand, and the
calibration reader on an N-TORC-style row (the refusals of the builder, frontends and exporter:
tests/models/test_recurrent_refusals.py)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
from cost_models.analytical.timing import clock_budget_ns
from cost_models.counters import count_layer
from cost_models.ir import GraphBuilder, LayerGraph, LayerPrecision
from cost_models.synth_data import read_synth_csv
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.errors import ShapeError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

Q = FixedType.parse("ap_fixed<16,8,AP_RND,AP_SAT>")


def _graph(kind: str, steps: int, features: int, units: int, sequences: bool = False) -> LayerGraph:
    b = GraphBuilder("r", (steps, features), Q)
    b.add(kind, name="rnn", units=units, return_sequences=sequences, precision=LayerPrecision(Q, Q, Q))
    return b.build()


def _hw(strategy: Strategy, rf: int) -> HardwareConfig:
    part = resolve_part("xczu7ev-ffvc1156-2-e")
    return HardwareConfig(
        part, clock_ns=4.0, io_type=IoType.STREAM, strategy=strategy, reuse_factor=rf, backend="vivado",
        tool_version="2019.1",
    )  # fmt: skip


def _layer(kind: str, steps: int, features: int, units: int, strategy: Strategy, rf: int):
    cost = AnalyticalModel().estimate(_graph(kind, steps, features, units), _hw(strategy, rf))
    return next(c for c in cost.layers if c.name == "rnn")


def test_recurrent_shapes_follow_return_sequences():
    assert _graph("lstm", 8, 16, 4, sequences=True).output.output_shape == (8, 4)
    assert _graph("gru", 8, 16, 4).output.output_shape == (4,)
    layer = _graph("lstm", 8, 16, 4).output
    assert layer.mult_units() == ((16, 16), (4, 16)) and layer.reuse_units() == ((16, 16),)
    with pytest.raises(ShapeError, match=r"\(steps, features\)"):
        GraphBuilder("flat", (16,), Q).add("lstm", units=4)
    graph = _graph("gru", 5, 3, 2, sequences=True)
    assert LayerGraph.from_json(graph.to_json()) == graph


def test_lstm_counters_are_keras_parameters_and_per_step_operations():
    lstm = _graph("lstm", 10, 3, 2).output
    c = count_layer(lstm, 16)
    assert c.params == 4 * 2 * (3 + 2 + 1)  # Keras LSTM: 4 * units * (features + units + 1)
    # per step: 2 * (3 + 2) * 8 products+adds of the two matrix-vector products + 2 * 6 element-wise
    assert c.flops == 10 * (2 * 5 * 8 + 2 * 6)


def test_lstm_estimate_checked_by_hand():
    # 4 steps of 2 features, 2 units, Resource at reuse factor 4 (legal for both 2x8 products).
    cost = _layer("lstm", 4, 2, 2, Strategy.RESOURCE, 4)
    # kernel 2x8 / 4 = 4 multipliers, recurrent 2x8 / 4 = 4, three variable products per unit = 6
    assert cost.dsp == 4 + 4 + 6
    # weight ROMs of 4 x 16 bits x 4 words stay in LUTRAM (< 1,280 bits); sigmoid reads 3 * 2 = 6 values
    # per call (3 dual-port copies of its 1024 x 18-bit table, one BRAM18 each), tanh 2 (1 copy)
    assert cost.bram18 == 3 + 1
    # one step: the slower product (rf + its pipeline depth + the Resource loop overhead), the gate sum,
    # the sigmoid table, the state update, the tanh table, the output product, the step's read
    budget = clock_budget_ns(4.0, 0.5, resolve_part("xczu7ev"))
    mult, add = C.t_dsp_mult_ns, C.t_add_ns
    depth = math.ceil((mult + add) / budget)  # the Resource unit's product + accumulation
    product = 4 + depth + C.resource_overhead_cycles
    step = product + math.ceil(add / budget) + C.table_cycles + depth + C.table_cycles + math.ceil(mult / budget) + 1
    assert cost.latency_cycles == 4 * step + 1
    assert cost.ii_cycles == 4 * step


def test_gru_has_three_gates_and_one_sigmoid_pair_per_unit():
    cost = _layer("gru", 4, 2, 2, Strategy.RESOURCE, 4)
    assert cost.dsp == 2 * 6 // 4 + 2 * 6 // 4 + 6  # kernel and recurrent 2x6 / rf 4 (ceil), 6 products
    assert cost.bram18 == 2 + 1  # sigmoid 2 * 2 reads -> 2 copies, tanh 2 reads -> 1


def test_recurrent_reuse_factor_is_moved_to_a_legal_value_and_said():
    # kernel 8x8 accepts 32; the recurrent 2x8 product does not: hls4ml uses 16 (recurrent_reuse_factor)
    cost = _layer("lstm", 4, 8, 2, Strategy.RESOURCE, 32)
    assert cost.dsp == 8 * 8 // 32 + 2 * 8 // 16 + 6
    assert any("reuse factor 16" in n and "recurrent_reuse_factor" in n for n in cost.notes)


@pytest.mark.parametrize("rf", [1, 2, 4, 8])
def test_latency_grows_with_the_steps_and_dsp_falls_with_reuse(rf):
    short, long = (_layer("lstm", s, 8, 4, Strategy.RESOURCE if rf > 1 else Strategy.LATENCY, rf) for s in (8, 16))
    assert long.latency_cycles - 1 == pytest.approx(2 * (short.latency_cycles - 1))
    assert short.lut == long.lut and short.dsp == long.dsp  # one step's hardware, reused every step
    if rf > 1:
        lower = _layer("lstm", 8, 8, 4, Strategy.RESOURCE, rf // 2 if rf > 2 else 1)
        assert lower.dsp >= short.dsp


def _ntorc_lstm_row() -> dict[str, str]:
    # made-up figures in the N-TORC per-layer layout (README of the calibration data), not a real row
    return {
        "source": "test/ntorc-like", "model_id": "lstm_in8_seq16_sz8_rf512", "layer_type": "lstm", "n_in": "8",
        "seq_len": "16", "size": "8", "reuse_factor_requested": "512", "reuse_factor": "256", "strategy": "Resource",
        "io_type": "io_stream", "precision": "ap_fixed<16,8,AP_RND,AP_SAT>", "fpga_part": "xczu7ev-ffvc1156-2-e",
        "clock_period_ns": "4", "hls_tool": "Vivado HLS", "hls_version": "2019.1", "result_kind": "csynth_layer",
        "LUT": "20000", "FF": "8000", "DSP": "26", "BRAM18": "21", "latency_cycles_max": "4000",
    }  # fmt: skip


def test_reader_reads_an_lstm_row(tmp_path: Path):
    row = _ntorc_lstm_row()
    path = tmp_path / "ntorc_like.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    (record,), skipped = read_synth_csv(path)
    assert not skipped
    (lstm,) = record.graph.weight_layers()
    assert lstm.kind.value == "lstm" and lstm.input_shape == (16, 8) and lstm.output_shape == (16, 8)
    assert record.hw.reuse_factor == 256 and record.hw.strategy is Strategy.RESOURCE
    assert any("256 used" in n for n in record.notes)
    cost = AnalyticalModel(record.target).estimate(record.graph, record.hw)
    assert cost.dsp == 8 * 32 // 256 + 8 * 32 // 256 + 3 * 8  # the whole step at RF 256: 1 + 1 + 24
    assert math.isfinite(cost.latency_cycles) and cost.latency_cycles > 16 * 256


def test_recurrent_rows_are_their_own_layer_mix_with_the_pooled_intervals():
    from cost_models.intervals import layer_mix

    graph = _graph("lstm", 8, 16, 8, sequences=True)
    assert layer_mix(graph) == "recurrent"
    cost = AnalyticalModel().estimate(graph, _hw(Strategy.RESOURCE, 16))
    low, high = cost.intervals["lut"]  # one source has recurrent rows: the kind's pooled quantiles
    assert low < cost.lut < high
