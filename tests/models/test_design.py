"""TrainedDesign: plain-JSON record plus weights, reloaded into the same model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from codesign.data import Dataset
from codesign.design import DESIGN_FILE, TrainedDesign, load_model
from codesign.models.arch import ArchSpec
from codesign.models.builder import to_torch_layout
from codesign.models.train import WEIGHTS_FILE, TrainConfig, train
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part


def test_design_round_trips_and_reloads_the_same_model(
    cnn_arch: ArchSpec, digits_image: Dataset, tmp_path: Path
) -> None:
    result = train(cnn_arch.to_graph((8, 8, 1)), digits_image, TrainConfig(epochs=1, proxy_fraction=0.3, fold_epochs=0))
    hw = HardwareConfig(resolve_part("xc7z020"), clock_ns=10.0, reuse_factor=4)
    design = TrainedDesign.from_training(result, hw, digits_image.info, arch=cnn_arch.to_dict())
    design.save(tmp_path, result.model)
    assert {p.name for p in tmp_path.iterdir()} == {DESIGN_FILE, WEIGHTS_FILE}
    json.loads((tmp_path / DESIGN_FILE).read_text())  # plain JSON
    again = TrainedDesign.load(tmp_path)
    assert again == design
    assert ArchSpec.from_dict(again.arch) == cnn_arch
    model = load_model(tmp_path)
    x = to_torch_layout(torch.as_tensor(digits_image.x_test[:20]))
    with torch.no_grad():
        assert torch.equal(model(x), result.model(x))


def test_missing_or_foreign_design_files_are_one_line_errors(tmp_path: Path, digits_flat: Dataset) -> None:
    with pytest.raises(SpecError, match="no such file"):
        TrainedDesign.load(tmp_path)
    (tmp_path / DESIGN_FILE).write_text('{"design_version": 99}')
    with pytest.raises(SpecError, match="design_version"):
        TrainedDesign.load(tmp_path)
    (tmp_path / DESIGN_FILE).write_text('{"design_version": 1}')
    with pytest.raises(SpecError, match="malformed"):
        TrainedDesign.load(tmp_path)


def test_accuracy_none_survives_the_round_trip(mlp_arch: ArchSpec, digits_flat: Dataset, tmp_path: Path) -> None:
    hw = HardwareConfig(resolve_part("xcu250"))
    design = TrainedDesign(mlp_arch.to_graph((64,)), hw, digits_flat.info, None, {"status": "diverged"})
    design.save(tmp_path)
    assert TrainedDesign.load(tmp_path) == design
    assert replace(design, accuracy=0.5) != design
