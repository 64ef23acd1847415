"""The toolkit estimates recurrent layers only: the Brevitas builder, the exporter and both frontends
refuse them in one line naming the layer (the reason is ``cost_models.kinds.RECURRENT_NOT_BUILT``)."""

from __future__ import annotations

import pytest

from cost_models.ir import GraphBuilder, LayerPrecision
from cost_models.kinds import RECURRENT_NOT_BUILT
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType


def _graph(kind: str, steps: int, features: int, units: int):
    q = FixedType(16, 8)
    b = GraphBuilder("r", (steps, features), q)
    b.add(kind, name="rnn", units=units, precision=LayerPrecision(q, q, q))
    return b.build()


def test_the_builder_and_the_exporter_refuse_recurrent_layers_in_one_line():
    for kind in ("lstm", "gru"):
        _refused_everywhere(_graph(kind, 4, 2, 2))


def _refused_everywhere(graph):
    from codesign.export._qonnx import check_translatable
    from codesign.models.builder import build_model

    for refuse in (build_model, check_translatable):
        with pytest.raises(UnsupportedLayerError, match="recurrent layers") as err:
            refuse(graph)
        assert "\n" not in str(err.value) and "'rnn'" in str(err.value)


def test_the_torch_frontend_refuses_an_lstm_module_naming_it():
    import torch
    from torch import nn

    from codesign.models.frontends import graph_from_module

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 4, batch_first=True)

        def forward(self, x):
            return self.rnn(x)[0]

    with pytest.raises(UnsupportedLayerError, match=r"module 'rnn' \(LSTM\)") as err:
        graph_from_module(Net(), torch.zeros(1, 5, 3))
    assert RECURRENT_NOT_BUILT in str(err.value)


def test_the_onnx_frontend_refuses_an_lstm_node_naming_it():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from codesign.models.frontends import graph_from_onnx

    steps, features, hidden = 5, 3, 4
    weights = [
        numpy_helper.from_array(np.zeros((1, 4 * hidden, n), np.float32), name)
        for name, n in (("W", features), ("R", hidden))
    ]
    node = helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=hidden)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [steps, 1, features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [steps, 1, 1, hidden])], weights,
    )  # fmt: skip
    with pytest.raises(UnsupportedLayerError, match=r"\(LSTM\): recurrent layers") as err:
        graph_from_onnx(helper.make_model(graph))
    assert "\n" not in str(err.value)


def test_codesign_train_refuses_an_lstm_spec_in_one_line_and_writes_nothing(capsys, tmp_path):
    from codesign.cli import main

    spec = tmp_path / "lstm.yaml"
    spec.write_text(
        "name: l\npart: xc7z020\ninput_shape: [8, 8]\nprecision: 'ap_fixed<16,6>'\n"
        "layers:\n  - {type: lstm, units: 8}\n  - {type: dense, units: 10}\n"
    )
    out = tmp_path / "out"
    assert main(["train", str(spec), "--epochs", "1", "--threads", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "layer 'lstm1' (lstm)" in err and RECURRENT_NOT_BUILT in err and "\n" not in err
    assert not out.exists()
