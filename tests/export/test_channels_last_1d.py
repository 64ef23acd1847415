"""The toolkit's 1D channels-last conversion (codesign/export/_channels_last_1d.py), without a C compile:
qonnx 1.0's own conversion still loops on a 1D residual block (so the workaround is still needed), the
toolkit's pass leaves only the input Transpose and computes what the Brevitas export computes, and graphs
without a 1D join keep qonnx's conversion. The bit-exact C simulation of such a block is in
test_export_layer_kinds.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from codesign.export._channels_last_1d import needs_1d_conversion
from codesign.export._qonnx import clean_qonnx, export_qonnx
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import build_model

L = ArchLayer
_CONV = {"filters": 4, "kernel": (3,), "padding": "same", "weight_bits": 6}
#: two residual adds in a row (the second adds the first one's sum), then max pooling and a dense head
TWO_BLOCKS = [
    L("conv1d", name="c1", **_CONV), L("activation", name="r1", act_bits=6),
    L("conv1d", name="c2", **_CONV), L("activation", name="r2", act_bits=6),
    L("add", name="s1", inputs=("r1", "r2")),
    L("conv1d", name="c3", **_CONV), L("activation", name="r3", act_bits=6),
    L("add", name="s2", inputs=("s1", "r3")),
    L("maxpool1d", name="pool", pool=(2,)), L("flatten", name="flat"), L("dense", name="out", units=10),
]  # fmt: skip


def _raw(layers: list[ArchLayer], shape: tuple[int, ...], folder: Path) -> Path:
    torch.manual_seed(0)
    model = build_model(ArchSpec("net", tuple(layers)).to_graph(shape)).eval()
    return export_qonnx(model, (shape[-1], *shape[:-1]), folder / "raw.onnx")


def _run(model, x: np.ndarray) -> np.ndarray:
    from qonnx.core.onnx_exec import execute_onnx

    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


def test_qonnx_own_conversion_still_never_settles_on_a_1d_residual_block(tmp_path: Path) -> None:
    """If this fails, qonnx fixed MoveChanFirstDownstream for 3D tensors: the toolkit's pass may go."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import InsertChannelsLastDomainsAndTrafos, MoveChanFirstDownstream
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(_raw(TWO_BLOCKS[:5] + TWO_BLOCKS[-2:], (16, 4), tmp_path))))
    model = model.transform(InsertChannelsLastDomainsAndTrafos())
    changed = [MoveChanFirstDownstream().apply(model)[1] for _ in range(20)]
    assert all(changed), "qonnx's MoveChanFirstDownstream reached a fixed point on a 1D residual block"


def test_a_1d_residual_network_keeps_only_the_input_transpose_and_computes_the_same(tmp_path: Path) -> None:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    raw = _raw(TWO_BLOCKS, (16, 4), tmp_path)
    reference = cleanup_model(ModelWrapper(str(raw)))
    assert needs_1d_conversion(reference)
    clean = clean_qonnx(raw, tmp_path / "clean.onnx")
    transposes = [n for n in clean.graph.node if n.op_type == "Transpose"]
    assert [t.input[0] for t in transposes] == [clean.graph.input[0].name]
    adds = [n for n in clean.graph.node if n.op_type == "Add" and len(clean.get_tensor_shape(n.output[0])) == 3]
    assert [clean.get_tensor_shape(n.output[0]) for n in adds] == [[1, 16, 4]] * 2  # channels-last sums
    x = np.random.default_rng(0).uniform(-4, 4, (8, 1, 4, 16)).astype(np.float32)
    outputs = [_run(clean, sample) for sample in x]
    for sample, output in zip(x, outputs):
        np.testing.assert_array_equal(output, _run(reference, sample))
    assert np.ptp(np.stack(outputs), axis=0).max() > 0  # the samples give different outputs


@pytest.mark.parametrize(
    ("layers", "shape"),
    [
        ([L("conv1d", name="c1", **_CONV), L("activation", name="r1"), L("flatten", name="f"),
          L("dense", name="out", units=10)], (16, 4)),
        ([L("conv2d", name="c1", **_CONV), L("activation", name="r1"), L("conv2d", name="c2", **_CONV),
          L("activation", name="r2"), L("add", name="s", inputs=("r1", "r2")), L("flatten", name="f"),
          L("dense", name="out", units=10)], (8, 8, 1)),
    ],
    ids=["1d_without_join", "2d_residual"],
)  # fmt: skip
def test_graphs_without_a_1d_join_keep_qonnx_conversion(layers: list, shape: tuple, tmp_path: Path) -> None:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    assert not needs_1d_conversion(cleanup_model(ModelWrapper(str(_raw(layers, shape, tmp_path)))))
