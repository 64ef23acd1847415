"""Register (FF) mechanisms of the analytical model (issue 11): hand-checked terms per mechanism and a
property of the FF coefficient fit. Fast: no training, no synthesis."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS
from cost_models.cost import Target
from cost_models.ir import GraphBuilder
from hw_templates import resolve_part
from hw_templates.config import Backend, HardwareConfig, IoType, Strategy
from hw_templates.precision import FixedType

Q16 = FixedType(16, 6)


def _mlp(flatten: bool = False):
    b = GraphBuilder("mlp", (16,), Q16)
    if flatten:
        b.add("flatten", name="flat")
    b.add("dense", units=8, name="fc1")
    b.add("activation", function="relu", name="relu1")
    b.add("dense", units=4, name="fc2")
    return b.build()


def _layer_terms(graph, hw) -> dict[str, dict[str, float]]:
    """Each layer's mechanism terms (what the fitted coefficients multiply)."""
    model = AnalyticalModel()
    out = {}
    for x in graph.layers:
        terms, _ = model._layer_terms(x, hw.resolve(x.name), hw, graph)
        out[x.name] = {k: float(v) for k, v in terms.items()}
    return out


def _hw(**kw) -> HardwareConfig:
    return HardwareConfig(resolve_part(kw.pop("part", "xc7z020")), clock_ns=5.0, **kw)


@pytest.mark.parametrize("strategy, rf", [(Strategy.LATENCY, 1), (Strategy.RESOURCE, 4)])
def test_vivado_hls_multiplier_registers_hand_checked(strategy, rf):
    # UG902 MulnS cores: each DSP multiplier instance of Vivado HLS registers its operands (16 + 16 bits)
    # in fabric; Vitis HLS keeps them in the DSP (feature 0).
    graph = _mlp()
    vivado = _layer_terms(graph, _hw(backend=Backend.VIVADO, strategy=strategy, reuse_factor=rf))["fc1"]
    vitis = _layer_terms(graph, _hw(backend=Backend.VITIS, strategy=strategy, reuse_factor=rf))["fc1"]
    assert vivado["dsp"] > 0  # 16 x 16-bit products land in DSP48E1 slices (one each)
    assert vivado["mult_reg"] == vivado["dsp"] * (16 + 16)
    if strategy is Strategy.RESOURCE:
        assert vivado["dsp"] == 16 * 8 / rf  # block_factor multipliers
    assert vitis["mult_reg"] == 0


def test_the_tool_version_decides_which_tool_builds_the_multipliers():
    graph = _mlp()
    old = _layer_terms(graph, _hw(backend=Backend.VITIS, tool_version="2019.2"))["fc1"]  # Vivado HLS release
    new = _layer_terms(graph, _hw(backend=Backend.VIVADO, tool_version="2023.2"))["fc1"]  # Vitis HLS release
    assert old["mult_reg"] == old["dsp"] * 32 > 0 and new["mult_reg"] == 0


def test_vivado_hls_costs_more_ff_than_vitis_hls_for_the_same_design():
    graph = _mlp()
    ff = {
        b: AnalyticalModel().estimate(graph, _hw(backend=b, clock_uncertainty_ns=0.6)).ff
        for b in (Backend.VIVADO, Backend.VITIS)
    }
    assert ff[Backend.VIVADO] > ff[Backend.VITIS]


def test_dataflow_channels_and_ports_of_an_io_parallel_dataflow_top():
    # hls4ml (vivado_writer.py v0.2-0.7, pipeline_style.py v0.8-1.3): io_parallel + a Resource layer ->
    # #pragma HLS DATAFLOW; each layer output (the design's too) a ping-pong channel (n_outputs x result
    # bits), the design's input array a port.
    graph = _mlp(flatten=True)
    resource = _layer_terms(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=4))
    assert {n: (t["channel"], t["port"]) for n, t in resource.items()} == {
        "input": (0, 16 * 16),
        "flat": (0, 0),  # in place
        "fc1": (8 * 16, 0),
        "relu1": (8 * 16, 0),
        "fc2": (4 * 16, 0),  # the top's output array: written by the last process
    }
    latency = _layer_terms(graph, _hw(strategy=Strategy.LATENCY))  # PIPELINE top: no channels
    stream = _layer_terms(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=4, io_type=IoType.STREAM))
    for terms in (latency, stream):  # io_stream passes FIFOs (priced apart), not ping-pong arrays
        assert all(t["channel"] == 0 and t["port"] == 0 for t in terms.values())


def test_a_convolution_makes_an_io_parallel_top_dataflow():
    b = GraphBuilder("cnn", (8, 8, 2), Q16)
    b.add("conv2d", filters=4, kernel=[3], name="conv")
    b.add("flatten", name="flat")
    b.add("dense", units=4, name="fc")
    terms = _layer_terms(b.build(), _hw(strategy=Strategy.LATENCY))
    assert terms["conv"]["channel"] == 6 * 6 * 4 * 16
    assert terms["conv"]["process"] == 1 and terms["fc"]["process"] == 1


def test_dataflow_processes_one_per_layer_module():
    graph = _mlp(flatten=True)
    stream = _layer_terms(graph, _hw(io_type=IoType.STREAM))
    assert {n: t["process"] for n, t in stream.items()} == {"input": 0, "flat": 0, "fc1": 1, "relu1": 1, "fc2": 1}
    latency = _layer_terms(graph, _hw(strategy=Strategy.LATENCY))  # one inlined pipeline: no modules
    assert all(t["process"] == 0 for t in latency.values())
    resource = _layer_terms(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=4))
    assert sum(t["process"] for t in resource.values()) == 3


def test_symmetric_fit_is_unbiased_under_multiplicative_noise(load_script):
    # measured = 2 x feature x lognormal noise (log-spread 0.8): the geometric-mean scaling settles near
    # 2 exp(-0.5 * 0.8**2) = 1.45; the error relative to the measured value alone leans much lower
    # (a factor too high costs more than one too low).
    fit = load_script("fit_analytical")
    rng = np.random.default_rng(0)
    x = rng.uniform(100, 10_000, 400)
    y = 2.0 * x * np.exp(rng.normal(0.0, 0.8, x.size))
    record = [SimpleNamespace(measured={"ff": b}, source=str(i % 8)) for i, b in enumerate(y)]
    rows = [SimpleNamespace(terms={"process": a, "ff_fixed": 0.0}, record=r) for a, r in zip(x, record)]
    symmetric = fit.fit_linear(rows, "ff", ("process",), "ff_fixed", symmetric=True)["process"]
    one_sided = fit.fit_linear(rows, "ff", ("process",), "ff_fixed")["process"]
    assert 1.25 < symmetric < 1.65
    assert one_sided < 0.85 * symmetric


@pytest.mark.parametrize("strategy, rf", [(Strategy.LATENCY, 1), (Strategy.RESOURCE, 4)])
def test_vivado_hls_stream_dense_copies_hand_checked(strategy, rf):
    # hls4ml's Vivado nnet_dense_stream.h: dense() is a module of its own that copies the input stream into
    # data[n_in] and the result res[n_out] into the output pack (16 + 8 values of 16 bits for fc1); the Vitis
    # template inlines dense() (INLINE recursive): no copies. io_parallel has no stream to copy from.
    graph = _mlp()
    stream = {"io_type": IoType.STREAM, "strategy": strategy, "reuse_factor": rf}
    vivado = _layer_terms(graph, _hw(backend=Backend.VIVADO, **stream))
    assert vivado["fc1"]["copy"] == 16 * 16 + 8 * 16
    assert vivado["fc2"]["copy"] == 8 * 16 + 4 * 16
    assert vivado["relu1"]["copy"] == 0  # only Dense layers have the DataPrepare/ResWrite copies
    vitis = _layer_terms(graph, _hw(backend=Backend.VITIS, **stream))
    parallel = _layer_terms(graph, _hw(backend=Backend.VIVADO, strategy=strategy, reuse_factor=rf))
    assert all(t["copy"] == 0 for terms in (vitis, parallel) for t in terms.values())


@pytest.mark.parametrize("backend", [Backend.VIVADO, Backend.VITIS])
def test_stream_convolution_res_out_copy_hand_checked(backend):
    # compute_output_buffer_1d (nnet_conv_stream.h, both tools): the unit writes res_out[n_filt], copied into
    # the output pack: 4 filters x 16 bits; io_parallel convolutions have no such copy.
    b = GraphBuilder("cnn", (16, 2), Q16)
    b.add("conv1d", filters=4, kernel=[3], name="conv")
    graph = b.build()
    stream = _layer_terms(graph, _hw(backend=backend, io_type=IoType.STREAM))["conv"]
    parallel = _layer_terms(graph, _hw(backend=backend))["conv"]
    assert stream["copy"] == 4 * 16 and parallel["copy"] == 0


def test_copy_coefficient_is_tied_to_state_in_hls_and_zero_after_synthesis(load_script):
    # the copies are priced like state registers in the HLS estimate (one FF per bit, COEF_BOUNDS
    # "hls_ff_state") and merged away by synthesis (copies.py): rows whose FF are state + copy registers give one
    # coefficient for both, and 0 for copy post-synthesis.
    fit = load_script("fit_analytical")
    rows = []
    for i, (state, copy) in enumerate([(1000, 0), (2000, 500), (500, 1500), (3000, 3000), (800, 200), (1200, 0)]):
        terms = dict.fromkeys(("pipe", "operand", "control", "mult_reg", "channel", "port", "process", "axis"), 0.0)
        terms |= {"state": float(state), "copy": float(copy), "ff_fixed": 0.0}
        for target, ff in ((Target.HLS, 1.0 * (state + copy)), (Target.SYNTH, 1.2 * state)):
            record = SimpleNamespace(measured={"ff": ff}, source=f"s{i}", target=target, notes=())
            rows.append(SimpleNamespace(terms=terms, record=record))
    hls, synth = fit.fit_resource_coefs(rows, "ff", DEFAULT_CONSTANTS)
    assert hls["copy"] == hls["state"] == 1.0
    assert synth["copy"] == 0.0 and synth["state"] == pytest.approx(1.2, rel=0.02)
    assert DEFAULT_CONSTANTS.ff_coef["copy"] == DEFAULT_CONSTANTS.ff_coef["state"]


def test_latency_products_taking_turns_are_each_registered():
    # Latency strategy, rf > 1: ALLOCATION makes the DSP products take turns over the rf-cycle schedule, so
    # every product (16-bit accum_t) is held in a register at least once before the tree; at rf 1 on a
    # relaxed clock the whole chain fits one cycle and no product is registered.
    graph = _mlp()

    def fc1(rf: int) -> dict[str, float]:
        hw = HardwareConfig(resolve_part("xcu250"), clock_ns=25.0, strategy=Strategy.LATENCY, reuse_factor=rf)
        return _layer_terms(graph, hw)["fc1"]

    one, four = fc1(1), fc1(4)
    assert one["pipe"] == 0
    assert four["dsp"] == 32  # multiplier_limit = 128 / 4: the 73 DSP products take 3 turns
    assert four["pipe"] == 16 * 8 * 16  # 128 products x 16 bits, one register each


@pytest.mark.parametrize("io_type", [IoType.PARALLEL, IoType.STREAM])
def test_recurrent_stack_copies_hand_checked(io_type):
    # lstm_stack (nnet_recurrent.h, hls4ml 1.3): every step copies its 6 input values into data_in[6]; in
    # io_stream the new state h_newstate (4 values) is copied into the output pack. 16 bits each.
    b = GraphBuilder("rnn", (5, 6), Q16)
    b.add("lstm", units=4, return_sequences=True, name="lstm")
    terms = _layer_terms(b.build(), _hw(io_type=io_type, strategy=Strategy.RESOURCE, reuse_factor=2))["lstm"]
    assert terms["copy"] == 6 * 16 + (4 * 16 if io_type is IoType.STREAM else 0)


def test_latency_unit_pipeline_registers_are_cut_at_the_latency_budget():
    # timing.latency_budget_ns, "Where the cuts fall": fc1 (16 -> 8, 16-bit, DSP products: t_dsp 2.0 ns, adders
    # 2.6 ns, a 17-input tree of 5 levels) at 5 ns. xcu250 (DSP48E2): clock budget (5 - 1.35) x 775 / 550 =
    # 5.14 ns, latency budget x 2.5 = 12.86 ns: the first cycle holds the product and 4 levels, so the one cut
    # is at level 4, 1/16 register per product: 128 products x 16 bits / 16 = 128 bits (the clock budget alone
    # would cut after every level from 1: 0.9375 per product, 1,920 bits). xc7z020 (DSP48E1, 464 MHz): the
    # latency budget is the clock budget, 3.08 ns: a cut after the product and each level, 1.9375 per product.
    graph = _mlp()

    def pipe(part: str) -> float:
        hw = HardwareConfig(resolve_part(part), clock_ns=5.0, strategy=Strategy.LATENCY, backend=Backend.VITIS)
        return _layer_terms(graph, hw)["fc1"]["pipe"]

    assert pipe("xcu250") == pytest.approx(128 * 16 / 16)
    assert pipe("xc7z020") == pytest.approx(128 * 16 * 1.9375)


def test_hls_register_bits_cost_one_ff_each_and_are_fitted_after_synthesis(load_script):
    # COEF_BOUNDS["hls_ff_<feature>"]: csynth counts one FF per register bit, so the HLS coefficients of the
    # register-bit features are 1 whatever the rows say (here 0.3 per multiplier-register bit); after
    # synthesis (registers absorbed into the DSP48) they are fitted inside (0, 3) and the fit finds 0.3.
    fit = load_script("fit_analytical")
    rows = []
    for i, (pipe, mult) in enumerate([(1000, 500), (2000, 4000), (500, 1500), (3000, 300), (800, 2000), (1200, 100)]):
        terms = dict.fromkeys(("operand", "state", "control", "channel", "port", "process", "copy", "axis"), 0.0)
        terms |= {"pipe": float(pipe), "mult_reg": float(mult), "ff_fixed": 0.0}
        for target in (Target.HLS, Target.SYNTH):
            record = SimpleNamespace(measured={"ff": pipe + 0.3 * mult}, source=f"s{i}", target=target, notes=())
            rows.append(SimpleNamespace(terms=terms, record=record))
    hls, synth = fit.fit_resource_coefs(rows, "ff", DEFAULT_CONSTANTS)
    assert hls["mult_reg"] == 1.0
    assert synth["mult_reg"] == pytest.approx(0.3, abs=0.02) and synth["pipe"] == pytest.approx(1.0, abs=0.05)
    assert all(DEFAULT_CONSTANTS.ff_coef[f] == 1.0 for f in ("pipe", "operand", "state", "copy", "mult_reg", "axis"))


@pytest.mark.parametrize("backend", [Backend.VIVADO, Backend.VITIS])
def test_io_stream_top_axis_register_slices_hand_checked(backend):
    # hls4ml's io_stream top: INTERFACE axis on the input and output streams; each axis port has a register
    # slice of two words (dataflow.py). The flat 16-value input is one 16 x 16-bit transfer, the output one of
    # 4 values: 2 x 256 bits on the input layer, 2 x 64 on the last; io_parallel tops have none.
    graph = _mlp()
    stream = _layer_terms(graph, _hw(backend=backend, io_type=IoType.STREAM))
    parallel = _layer_terms(graph, _hw(backend=backend, strategy=Strategy.RESOURCE, reuse_factor=4))
    names = [x.name for x in graph.layers]
    assert stream[names[0]]["axis"] == 2 * 16 * 16
    assert stream["fc2"]["axis"] == 2 * 4 * 16
    assert stream["fc1"]["axis"] == stream["relu1"]["axis"] == 0
    assert all(t["axis"] == 0 for t in parallel.values())
    # an image stream carries one pixel's channels per transfer: 3 channels of 16 bits
    b = GraphBuilder("cnn", (8, 8, 3), Q16)
    b.add("conv2d", filters=2, kernel=[3, 3], name="conv")
    cnn = b.build()
    terms = _layer_terms(cnn, _hw(backend=backend, io_type=IoType.STREAM))
    assert terms[cnn.layers[0].name]["axis"] == 2 * 3 * 16
    assert terms["conv"]["axis"] == 2 * 2 * 16  # the last layer: one pixel of 2 filters
