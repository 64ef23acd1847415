"""Every Pareto design of a (tiny) demo-style MLP run and of a CNN run exports and verifies bit-exact.

The runs are kept to two trials with one hardware point per architecture so CI compiles only a few C
models; the full demo and CNN runs are exported the same way in the issue's benchmark.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _run(folder: Path, space: dict, io_type: str) -> Path:
    from codesign.search import run_config, search_settings_from_dict

    settings = search_settings_from_dict(
        {
            "name": folder.name,
            "seed": 0,
            "dataset": "digits",
            "space": space,
            "parts": ["xc7z020"],
            "clock_ns": 5,
            "hardware": {"io_types": [io_type], "strategies": ["latency"], "reuse_factor_max": 1},
            "training": {"epochs": 2, "batch_size": 128, "proxy_fraction": 0.5},
            "search": {"trials": 2, "objectives": ["accuracy", "latency_ns", "lut_dsp"], "sampler": "random"},
        }
    )
    run_config(settings, folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    mlp = {"kind": "mlp", "hidden": [1, 1], "units": [8, 16], "weight_bits": [3, 6], "act_bits": [3, 6]}
    cnn = {"kind": "cnn", "blocks": [1, 1], "filters": [4], "kernels": [3], "batchnorm": [True], "pool": [True],
           "dense": [0, 0], "weight_bits": [4, 6], "act_bits": [4, 6]}  # fmt: skip
    return {"demo": _run(root / "demo", mlp, "io_parallel"), "cnn": _run(root / "cnn", cnn, "io_stream")}


def test_all_pareto_designs_of_both_runs_are_bit_exact(runs: dict[str, Path], csim_cache: Path, tmp_path: Path):
    from codesign.export import export_designs
    from codesign.export.project import request_from_run
    from codesign.search import pareto_design_ids

    requests = []
    for name, run in runs.items():
        ids = pareto_design_ids(run)
        assert ids, name
        requests += [replace(request_from_run(run, i), design_id=f"{name}-{i}") for i in ids]
    results = export_designs(requests, tmp_path, jobs=2, cache_dir=csim_cache, progress=False)
    assert {r.status for r in results} == {"verified"}
    assert all(r.verification.bit_exact_mismatches == 0 for r in results)
    assert all(r.verification.csim_accuracy == r.verification.model_accuracy for r in results)
