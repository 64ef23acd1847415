"""Tightened accumulators (codesign.models.tighten) reach the hls4ml project and stay bit-exact."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from export_cases import CNN, MLP, hardware

pytestmark = pytest.mark.slow


def _tight_design(spec, shape, folder: Path, hw) -> Path:
    from codesign.data import load_dataset
    from codesign.design import TrainedDesign
    from codesign.models.tighten import tighten_accumulators
    from codesign.models.train import TrainConfig, train

    data = load_dataset("digits", shape, seed=0)
    result = train(spec.to_graph(shape), data, TrainConfig(epochs=2, seed=0, batch_size=128, fold_epochs=0))
    tight = tighten_accumulators(result.model, result.graph)
    assert tight is not result.graph, "some accumulator should get narrower"
    design = TrainedDesign.from_training(replace(result, graph=tight), hw, data.info)
    return design.save(folder, result.model)


def test_tight_designs_export_with_their_types_and_verify_bit_exact(tmp_path: Path, csim_cache: Path) -> None:
    from codesign.export import export_designs, request_from_design

    folders = [
        _tight_design(MLP, (64,), tmp_path / "mlp", hardware("io_parallel", "latency", 1)),
        _tight_design(CNN, (8, 8, 1), tmp_path / "cnn", hardware("io_stream", "latency", 1)),
    ]
    results = export_designs(
        [request_from_design(f) for f in folders], tmp_path / "out", jobs=2, cache_dir=csim_cache, progress=False
    )
    for folder, result in zip(folders, results):
        assert result.status == "verified" and result.verification.bit_exact_mismatches == 0
        graph = json.loads((folder / "design.json").read_text())["graph"]
        stated = {x["name"]: x["precision"]["accum"] for x in graph["layers"] if x.get("precision", {}).get("accum")}
        manifest = json.loads((result.project_dir / "manifest.json").read_text())
        applied = {a["ir_name"]: a["precision"].get("accum") for a in manifest["hls4ml"]["applied"]}
        assert stated
        for name, accum in stated.items():
            width, integer = accum.split("<")[1].rstrip(">").split(",")[:2]
            assert applied[name].startswith(f"fixed<{width},{integer},"), (name, applied[name], accum)
