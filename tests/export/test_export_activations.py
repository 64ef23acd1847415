"""Activations beyond relu/linear: a network with sigmoid, tanh, leaky_relu, hard_tanh and hard_sigmoid, and
ones ending in a softmax, are trained (Brevitas), exported and C-simulated.

sigmoid, tanh and softmax are lookup tables in hls4ml, so the C simulation is compared, bit for bit, with
the trained model whose float functions are replaced by hls4ml 1.3.0's table semantics
(``codesign.export._tables``, ``_softmax_table``), and with the trained model itself within stated bounds
(largest output difference, argmax agreement: ``verification.json`` records both). leaky_relu (alpha
0.125), hard_tanh and hard_sigmoid (alpha 0.25) are exact: the reference model computes them as the
trained model does; the trained model computes a final softmax as hls4ml's table itself."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from export_cases import hardware

from codesign.models.arch import ArchLayer, ArchSpec
from cost_models.ir import Activation, LayerGraph

pytestmark = pytest.mark.slow

L = ArchLayer


@dataclass(frozen=True)
class ActivationCase:
    """A design and the bounds its C simulation must meet against the trained model itself."""

    name: str
    shape: tuple[int, ...]
    layers: tuple[ArchLayer, ...] | dict  # an architecture, or a design spec
    settings: tuple[tuple[str, str], ...]  # (io type, strategy) it is exported with
    max_trained_diff: float
    min_argmax_agreement: float

    def graph(self) -> LayerGraph:
        if isinstance(self.layers, dict):
            from codesign.spec import design_spec_from_dict

            return design_spec_from_dict(self.layers).graph
        return ArchSpec(self.name, self.layers).to_graph(self.shape)


_PROBS = {"result": "ap_ufixed<9,1,AP_RND_CONV,AP_SAT>"}
_WIDE = {"result": "ap_fixed<24,12,AP_TRN,AP_SAT>"}


def _softmax_spec(hidden: dict) -> dict:
    """A 64-12-10 MLP design spec: dense, ``hidden`` (an activation layer), dense, final softmax."""
    return {
        "input_shape": [64],
        "precision": {"input": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>", "weight": "ap_fixed<6,1,AP_RND_CONV,AP_SAT>",
                      "bias": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"},
        "layers": [{"type": "dense", "name": "fc1", "units": 12, "precision": _WIDE}, hidden,
                   {"type": "dense", "name": "out", "units": 10, "precision": _WIDE},
                   {"type": "softmax", "name": "probs", "precision": _PROBS}],
    }  # fmt: skip


ALL_SETTINGS = (("io_parallel", "latency"), ("io_parallel", "resource"), ("io_stream", "latency"),
                ("io_stream", "resource"))  # fmt: skip
ACTIVATION_CASES = (
    ActivationCase(
        "acts",
        (64,),
        (L("dense", name="fc1", units=12, weight_bits=6), L("batchnorm", name="bn1"),
         L("activation", name="sig", function="sigmoid"),
         L("dense", name="fc2", units=12, weight_bits=6), L("activation", name="th", function="tanh"),
         L("dense", name="fc3", units=12, weight_bits=6), L("activation", name="lin", function="linear"),
         L("activation", name="lk", function="leaky_relu"),
         L("dense", name="fc4", units=12, weight_bits=6), L("activation", name="ht", function="hard_tanh"),
         L("dense", name="fc5", units=12, weight_bits=6), L("activation", name="hs", function="hard_sigmoid"),
         L("dense", name="out", units=10, weight_bits=6)),
        ALL_SETTINGS, 0.08, 0.97,
    ),
    # the trained model evaluates the final softmax as hls4ml's table with the types the toolkit writes, so
    # it is the reference itself; the bounds are against the same network with a float softmax
    ActivationCase(
        "softmax",
        (64,),
        _softmax_spec({"type": "relu", "name": "r1", "precision": {"result": "ap_ufixed<8,3,AP_RND_CONV,AP_SAT>"}}),
        (("io_parallel", "latency"), ("io_parallel", "resource"), ("io_stream", "resource")), 1 / 32, 0.97,
    ),
    # behind tanh -> dense hls4ml would derive another inp_norm_t (ap_ufixed<18,6>): the toolkit's types apply
    ActivationCase(
        "tanh_softmax",
        (64,),
        _softmax_spec({"type": "tanh", "name": "th", "precision": {"result": "ap_fixed<8,1,AP_RND_CONV,AP_SAT>"}}),
        (("io_stream", "latency"),), 0.08, 0.97,
    ),
)  # fmt: skip


def _train(case: ActivationCase, folder: Path) -> Path:
    from codesign.data import load_dataset
    from codesign.design import TrainedDesign
    from codesign.models.train import TrainConfig, train

    data = load_dataset("digits", case.shape, seed=0)
    result = train(case.graph(), data, TrainConfig(epochs=2, seed=0, batch_size=64))
    return TrainedDesign.from_training(result, hardware(), data.info).save(folder, result.model)


def _requests(case: ActivationCase, folder: Path) -> list:
    from codesign.export import request_from_design

    base = request_from_design(_train(case, folder))
    return [
        replace(base, design_id=f"{case.name}_{io}_{s}", hardware=hardware(io, s, 1 if s == "latency" else 2))
        for io, s in case.settings
    ]


def test_table_and_exact_activations_export_under_their_settings(tmp_path: Path, csim_cache: Path) -> None:
    from codesign.export import export_designs
    from codesign.export._tables import TABLE_REFERENCE

    requests = [r for case in ACTIVATION_CASES for r in _requests(case, tmp_path / case.name)]
    results = export_designs(requests, tmp_path / "out", jobs=2, cache_dir=csim_cache, progress=False, check=False)
    for r in results:
        case = next(c for c in ACTIVATION_CASES if r.design_id.startswith(c.name + "_"))
        v = r.verification
        assert r.status == "verified", (r.design_id, r.error, v)
        assert v.bit_exact_mismatches == 0 and v.n_samples > 300  # against hls4ml's table semantics
        print(r.design_id, v.to_dict())
        softmax = case.name.endswith("softmax")
        applied = {a["ir_name"]: a for a in r.manifest["hls4ml"]["applied"] if a["ir_name"]}
        last = "probs" if softmax else "sig"
        assert applied[last]["precision"]["result"].startswith("ufixed<"), applied[last]  # the quantizer, fused
        if softmax:  # against the same network with a float softmax: what the tables change
            assert v.float_softmax_max_abs_diff <= case.max_trained_diff, (r.design_id, v)
            assert v.float_softmax_argmax_agreement >= case.min_argmax_agreement, (r.design_id, v)
        if case.name == "softmax":  # the trained model is what is built: its accuracy is the design's
            assert v.reference == "trained model" and v.trained_argmax_agreement is None
            assert v.csim_accuracy == v.model_accuracy
            continue
        assert v.reference == TABLE_REFERENCE
        assert v.trained_max_abs_diff <= case.max_trained_diff, (r.design_id, v)
        assert v.trained_argmax_agreement >= case.min_argmax_agreement, (r.design_id, v)
        trained = np.loadtxt(Path(r.project_dir) / "tb_data" / "tb_trained_outputs.dat")
        expected = np.loadtxt(Path(r.project_dir) / "tb_data" / "tb_output_predictions.dat")
        assert np.any(trained != expected)  # the tables do change outputs: the reference is not the model


def test_table_semantics_reproduce_hls4ml_index_and_entries() -> None:
    """Spot values of the table model (hls4ml 1.3.0 nnet_activation.h): index int(x*N/span)+N/2 with
    truncation towards zero, entries truncated to table_t's 10 fraction bits."""
    from codesign.export._tables import DEFAULT_TABLE_TYPE, table_index, table_values

    x = np.array([-100.0, -0.01, 0.0, 0.01, 0.0156, 0.015625, 7.99, 100.0])
    assert table_index(Activation.SIGMOID, 1024, x).tolist() == [0, 512, 512, 512, 512, 513, 1023, 1023]
    sig = table_values(Activation.SIGMOID, 1024, DEFAULT_TABLE_TYPE)
    assert sig[512] == 0.5 and sig[0] == np.floor(1 / (1 + np.exp(8.0)) * 1024) / 1024
    assert np.all(sig * 1024 == np.floor(sig * 1024)) and np.all(np.diff(sig) >= 0)
    th = table_values(Activation.TANH, 1024, DEFAULT_TABLE_TYPE)
    assert th[512] == 0.0 and th[0] == np.floor(np.tanh(-4.0) * 1024) / 1024


def test_softmax_table_model_is_close_to_a_float_softmax_and_follows_its_types() -> None:
    """The toolkit's softmax tables (1024 entries): max(x) - x in steps of 1/64, saturating at 16, so the
    outputs stay within 1/32 of a float softmax where hls4ml's defaults (steps of 1/4) are 0.19 away; a
    logit 20 below the maximum saturates to exp(-16), which the 12-fraction-bit entries hold as 0."""
    from codesign.export._softmax_table import cast, softmax_stable, softmax_tables

    rng = np.random.default_rng(0)
    logits = np.round(rng.normal(0, 3, (500, 10)) * 256) / 256
    tables = softmax_tables(10)
    assert (tables.inp_norm.width, tables.inp_norm.integer, tables.accum.integer) == (10, 4, 5)
    probs = softmax_stable(logits, tables)
    exact = np.exp(logits - logits.max(1, keepdims=True))
    assert np.max(np.abs(probs - exact / exact.sum(1, keepdims=True))) < 1 / 32
    assert np.all(probs * 2**24 == np.floor(probs * 2**24))  # exact in single precision
    assert softmax_stable(np.array([[0.0, 0.0]]), softmax_tables(2)).tolist() == [[0.5, 0.5]]
    assert softmax_stable(np.array([[20.0, 0.0]]), softmax_tables(2)).tolist() == [[1.0, 0.0]]
    assert cast(np.array([-0.3, 2.5, 300.0]), tables.inp_norm).tolist() == [0.0, 2.5, 16 - 1 / 64]
