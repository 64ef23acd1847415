"""Latency mechanisms of the analytical model found out of source (issue 11): each test is a property or
a hand-checked case against the hls4ml template it cites (no training, no data files)."""

from __future__ import annotations

import pytest

from cost_models._synth_rows import build_design
from cost_models.analytical import AnalyticalModel
from cost_models.analytical.layers import GLOBAL_POOL_CYCLES
from cost_models.analytical.modules import BOUNDARY_CYCLES
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.precision import FixedType

Q16 = FixedType(16, 6)


def _hw(io_type: IoType, strategy: Strategy, rf: int) -> HardwareConfig:
    return HardwareConfig(resolve_part("xczu7ev"), clock_ns=4.0, io_type=io_type, strategy=strategy, reuse_factor=rf)


def _conv1d_cost(strategy: Strategy, rf: int, steps: int = 30, channels: int = 16, padding: str = "same"):
    b = GraphBuilder("c", (steps, channels), Q16)
    b.add("conv1d", name="conv", filters=16, kernel=(3,), padding=padding)
    graph = b.build()
    return next(
        c for c in AnalyticalModel().estimate(graph, _hw(IoType.STREAM, strategy, rf)).layers if c.name == "conv"
    )


def _dense_unit_latency(n_in: int, n_out: int, rf: int) -> float:
    """The Resource matrix-vector unit's own latency: an io_parallel dense of the conv's unit size, less
    the register the io_parallel top puts on a layer module's output (modules.BOUNDARY_CYCLES)."""
    b = GraphBuilder("d", (n_in,), Q16)
    b.add("dense", name="fc", units=n_out)
    cost = AnalyticalModel().estimate(b.build(), _hw(IoType.PARALLEL, Strategy.RESOURCE, rf))
    return next(c for c in cost.layers if c.name == "fc").latency_cycles - BOUNDARY_CYCLES


@pytest.mark.parametrize("rf", [2, 16, 48, 96, 384])
def test_streamed_resource_conv_runs_the_dense_unit_on_every_padded_pixel(rf):
    # conv_1d_buffer_cl (hls4ml v0.6-v1.3): under Resource the ReadInputWidth loop is not pipelined, so
    # the csynth worst case is padded_width x (KernelShiftWidth + push: filt_width cycles + the
    # dense_resource call). 'same' k3 over 30 steps reads 32 padded steps; the unit is 48 x 16.
    conv = _conv1d_cost(Strategy.RESOURCE, rf)
    assert conv.ii_cycles == 32 * (3 + _dense_unit_latency(48, 16, rf))
    assert conv.latency_cycles == conv.ii_cycles


def test_streamed_resource_conv_grows_by_one_cycle_per_padded_pixel_per_unit_of_rf():
    # N-TORC Conv1D rows (Vivado HLS 2019.1): (seq + 2) * (rf + 10) from rf 2 to 384
    low, high = _conv1d_cost(Strategy.RESOURCE, 48), _conv1d_cost(Strategy.RESOURCE, 96)
    assert high.ii_cycles - low.ii_cycles == 32 * 48


@pytest.mark.parametrize(("padding", "pixels"), [("same", 32), ("valid", 30)])
def test_streamed_latency_conv_interval_is_padded_pixels_times_rf(padding, pixels):
    # the pipelined ReadInputWidth loop at II = reuse_factor over the padded width (hls4ml inserts a
    # ZeroPadding layer before an io_stream 'same' convolution)
    assert _conv1d_cost(Strategy.LATENCY, 1, padding=padding).ii_cycles == pixels
    assert _conv1d_cost(Strategy.LATENCY, 4, padding=padding).ii_cycles == 4 * pixels


@pytest.mark.parametrize("kind", ["global_maxpool1d", "global_avgpool1d"])
def test_streamed_global_pooling_reads_in_an_unpipelined_loop(kind):
    # global_pooling1d_cl's ReadInput loop has no PIPELINE pragma: read then update, 2 cycles a pixel
    # (ftsipis GlobalMaxPooling1D, Vitis HLS 2023.2: interval 2 x 2,160 + 9)
    b = GraphBuilder("g", (100, 8), Q16)
    b.add(kind, name="pool")
    cost = AnalyticalModel().estimate(b.build(), _hw(IoType.STREAM, Strategy.LATENCY, 1))
    pool = next(c for c in cost.layers if c.name == "pool")
    assert GLOBAL_POOL_CYCLES == 2 and pool.ii_cycles == 2 * 100


def _ntorc_row(n_in: int, seq: int, rf: int, requested: int) -> dict[str, str]:
    return {
        "source": "HeRCLab/N-TORC", "model_id": f"conv1d_in{n_in}_seq{seq}", "layer_type": "conv1d",
        "n_in": str(n_in), "seq_len": str(seq), "size": "16", "reuse_factor": str(rf),
        "reuse_factor_requested": str(requested), "precision": "ap_fixed<16,8,AP_RND,AP_SAT>",
    }  # fmt: skip


def test_ntorc_later_convs_read_the_pooled_sequence():
    # design_space_explorer.generate_model: every Conv1D is followed by MaxPooling1D(2, 'same'), so a conv
    # with n_in > 1 channels reads ceil(seq_len / 2) steps; the first conv (n_in = 1) reads seq_len
    (first,) = build_design(_ntorc_row(1, 128, 3, 4)).graph.weight_layers()
    (later,) = build_design(_ntorc_row(16, 33, 16, 16)).graph.weight_layers()
    assert first.input_shape == (128, 1) and later.input_shape == (17, 16)


def _stream_dense(shape: tuple[int, ...], rf: int):
    b = GraphBuilder("d", shape, Q16)
    if len(shape) > 1:
        b.add("flatten")
    b.add("dense", name="fc", units=4)
    cost = AnalyticalModel().estimate(b.build(), _hw(IoType.STREAM, Strategy.LATENCY, rf))
    return next(c for c in cost.layers if c.name == "fc")


def test_streamed_dense_reads_one_transfer_of_its_input_stream_per_cycle():
    # nnet_dense_stream.h DataPrepare: n_in / data_T::size reads at II 1; a Flatten passes the conv's
    # pixel stream on, so 20 pixels of 16 channels are 20 reads, a flat 320-value input one read
    after_flatten, flat = _stream_dense((20, 16), 1), _stream_dense((320,), 1)
    assert after_flatten.latency_cycles - flat.latency_cycles == 20 - 1
    assert after_flatten.ii_cycles == 20 and flat.ii_cycles == 1
    assert _stream_dense((20, 16), 64).ii_cycles == 64  # the reuse factor bounds it when larger


# --- io_parallel layer modules, softmax depth, ALLOCATION turns, Vitis accumulation chains (modules.py,
# layers.softmax_stages, matvec._allocation_turns, limits.adder_depth) ---


def _parallel_layers(graph, hw: HardwareConfig):
    return {c.name: c for c in AnalyticalModel().estimate(graph, hw).layers}


def _mlp(n_in: int, widths: tuple[int, ...], softmax: bool = False, bits: int = 16, weight: FixedType | None = None):
    b = GraphBuilder("m", (n_in,), FixedType(bits, 6))
    precision = LayerPrecision(result=FixedType(bits, 6), weight=weight) if weight else None
    for i, units in enumerate(widths):
        b.add("dense", name=f"fc{i}", units=units, precision=precision)
        if i < len(widths) - 1:
            b.add("activation", name=f"relu{i}", function="relu")
    if softmax:
        b.add("activation", name="softmax", function="softmax")
    return b.build()


def _zynq(clock_ns: float, **kw) -> HardwareConfig:
    return HardwareConfig(resolve_part("xc7z020"), clock_ns=clock_ns, io_type=IoType.PARALLEL, **kw)


@pytest.mark.parametrize("clock_ns", [2.0, 3.33, 5.0, 10.0, 25.0])
def test_io_parallel_layers_cost_whole_cycles_once_their_chain_spans_a_cycle(clock_ns):
    # every hls4ml layer function is its own pipelined instance in the top (csynth instance tables of
    # ArgyKokk / tanvirana / Thifjj / k-diep): past one cycle it costs whole cycles; within one cycle it
    # is combinational and chains with its neighbours; the design's latency is the sum along the chain
    graph = _mlp(64, (32, 32, 5))
    cost = AnalyticalModel().estimate(graph, _zynq(clock_ns))
    for layer in cost.layers:
        if layer.latency_cycles > 1:
            assert layer.latency_cycles == int(layer.latency_cycles)
    assert cost.latency_cycles == pytest.approx(sum(c.latency_cycles for c in cost.layers))


def test_a_slower_clock_never_lengthens_an_io_parallel_design_in_cycles():
    graph = _mlp(64, (32, 32, 5), softmax=True)
    cycles = [AnalyticalModel().estimate(graph, _zynq(t)).latency_cycles for t in (2.0, 3.33, 5.0, 10.0, 25.0)]
    assert cycles == sorted(cycles, reverse=True) and cycles[0] > cycles[-1]


def test_latency_layer_whose_interval_exceeds_its_pipeline_restarts_one_cycle_after_it_ends():
    # ArgyKokk RF 100 instances (Vitis HLS 2021.1, ap_fixed<8,2> weights): Dense 21->3 latency 37, interval 38
    # (not 100)
    graph = _mlp(21, (3,), weight=FixedType(8, 2))
    slow = _parallel_layers(graph, _zynq(3.33, strategy=Strategy.LATENCY, reuse_factor=63))["fc0"]
    assert slow.ii_cycles == slow.latency_cycles + 1 < 63
    fast = _parallel_layers(graph, _zynq(3.33, strategy=Strategy.LATENCY, reuse_factor=3))["fc0"]
    assert fast.ii_cycles == 3  # a pipeline deeper than its interval keeps II = reuse factor


@pytest.mark.parametrize("lanes", [2, 3, 5, 10, 16])
def test_softmax_depth_grows_with_its_reduction_trees_and_shrinks_with_the_clock(lanes):
    def depth(n: int, clock_ns: float) -> float:
        b = GraphBuilder("s", (n,), Q16)
        b.add("activation", name="sm", function="softmax")
        return _parallel_layers(b.build(), _zynq(clock_ns))["sm"].latency_cycles

    assert depth(2 * lanes, 3.33) >= depth(lanes, 3.33)  # one more max and one more adder level
    assert depth(lanes, 3.33) >= depth(lanes, 5.0) >= depth(lanes, 25.0)


def test_fabric_multipliers_take_the_same_allocation_turns_as_dsp_ones():
    # ALLOCATION instances=mul limits operations, whatever core they bind to (config_op mul -impl fabric):
    # ArgyKokk's fabric rows at RF 100 are as long as their DSP twins (33 vs 37 cycles), not as RF 1
    graph = _mlp(21, (3,), bits=16)

    def fc(impl: str, rf: int) -> float:
        return _parallel_layers(graph, _zynq(5.0, reuse_factor=rf, multiplier_impl=impl))["fc0"].latency_cycles

    assert fc("fabric", 63) > fc("fabric", 1) + 10
    assert fc("fabric", 63) - fc("fabric", 1) == fc("dsp", 63) - fc("dsp", 1)


def test_vitis_unit_above_the_partition_limit_adds_its_products_one_after_the_other():
    # ArgyKokk MNIST / HAR first layers (Vitis HLS 2021.1): 48 and 192 cycles for 105 and 342 non-zero
    # products per output; below 4,096 products the same source's layers follow log2(fan_in)
    def fc(n_in: int) -> float:
        hw = HardwareConfig(resolve_part("xcu250"), clock_ns=5.0, io_type=IoType.PARALLEL, tool_version="2021.1")
        return _parallel_layers(_mlp(n_in, (32,)), hw)["fc0"].latency_cycles

    below, above, twice = fc(120), fc(240), fc(480)  # 3,840 / 7,680 / 15,360 products
    assert above > 4 * below
    assert twice == pytest.approx(2 * above, rel=0.1)  # linear in the fan-in
