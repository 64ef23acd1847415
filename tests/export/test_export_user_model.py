"""The user's own model: a Brevitas module written by hand (Python API) and its QONNX file (CLI) export
as verified hls4ml projects, checked against the model's own outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from brevitas import nn as qnn
from brevitas.quant import Int16Bias
from brevitas.quant.fixed_point import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    Uint8ActPerTensorFixedPoint,
)
from torch import nn

from codesign import cli
from codesign.export.user_model import export_model
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part


class HandWritten(nn.Module):
    """What a user writes without the toolkit: power-of-two quantizers, Int16 biases, a 6-bit ReLU."""

    def __init__(self) -> None:
        super().__init__()
        fixed = {"weight_quant": Int8WeightPerTensorFixedPoint, "bias_quant": Int16Bias, "return_quant_tensor": False}
        self.inp = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True)
        self.fc1 = qnn.QuantLinear(16, 8, **fixed)
        self.relu = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=6, return_quant_tensor=True)
        self.fc2 = qnn.QuantLinear(8, 4, **fixed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(self.inp(x))))


@pytest.fixture(scope="module")
def hand_written() -> HandWritten:
    torch.manual_seed(0)
    model = HandWritten().train()
    for _ in range(3):  # let the activation quantizers see data, as a short training would
        model(torch.randn(64, 16) * 2)
    return model.eval()


def _hardware() -> HardwareConfig:
    return HardwareConfig(resolve_part("xc7z020"), clock_ns=10.0, reuse_factor=2)


@pytest.mark.slow
def test_a_hand_written_brevitas_module_exports_verified(hand_written, csim_cache: Path, tmp_path: Path) -> None:
    result = export_model(hand_written, torch.randn(8, 16), _hardware(), tmp_path, cache_dir=csim_cache)
    assert result.status == "verified", result.error
    assert result.verification.bit_exact_mismatches == 0 and result.verification.n_samples == 256
    manifest = json.loads((result.project_dir / "manifest.json").read_text())
    assert manifest["design"]["source"] == "user model" and manifest["estimated_cost"]["total"]["lut"] > 0
    applied = {a["ir_name"]: a for a in manifest["hls4ml"]["applied"] if a["ir_name"]}
    assert applied["fc1"]["reuse_factor"] == 2 and applied["fc2"]["reuse_factor"] == 2


@pytest.mark.slow
def test_its_qonnx_file_exports_verified_from_the_cli(
    hand_written, csim_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from brevitas.export import export_qonnx

    onnx_path = tmp_path / "hand.onnx"
    export_qonnx(hand_written, torch.randn(1, 16), str(onnx_path), dynamo=False)
    argv = ["export", str(onnx_path), "--out", str(tmp_path / "out"), "--part", "xc7z020", "--reuse-factor", "2"]
    assert cli.main([*argv, "--jobs", "1", "--no-progress", "--cache-dir", str(csim_cache), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["designs"]
    assert row["status"] == "verified" and row["mismatches"] == 0
    expected = np.loadtxt(tmp_path / "out" / "hand" / "tb_data" / "tb_output_predictions.dat", ndmin=2)
    inputs = np.loadtxt(tmp_path / "out" / "hand" / "tb_data" / "tb_input_features.dat", ndmin=2)
    with torch.no_grad():  # the reference is the QONNX model's own execution, equal to the module's
        assert np.array_equal(hand_written(torch.from_numpy(inputs).float()).numpy(), expected)


def test_user_model_bad_input_is_one_line(hand_written, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SpecError, match=r"example_input.*a torch batch"):
        export_model(hand_written, np.zeros((2, 16)), _hardware(), tmp_path)
    assert cli.main(["export", str(tmp_path / "missing.onnx"), "--no-progress"]) == 2
    assert "expected a readable .onnx file" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path), "--part", "xc7z020", "--no-progress"]) == 2
    assert "--part: applies to a QONNX model (.onnx) only" in capsys.readouterr().err
