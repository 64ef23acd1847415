"""Shared fixtures for the export tests: small trained designs and one session-wide export of them.

Compiling a C model is the expensive step (~3 s each with the shared precompiled header, plus ~4 s once
for the header), so the designs that cover MLP/CNN x io_parallel/io_stream x Latency/Resource are
exported once per session, in parallel, and every test reads that export.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("hls4ml")

from export_cases import CNN, EXPORT_CASES, MLP, train_design


@pytest.fixture(scope="session")
def csim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compile cache (precompiled header) for every export test."""
    return tmp_path_factory.mktemp("csim_cache")


@pytest.fixture(scope="session")
def design_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained MLP and a trained CNN for digits, saved as design folders."""
    root = tmp_path_factory.mktemp("designs")
    return {
        "mlp": train_design(MLP, (64,), epochs=6, folder=root / "mlp"),
        "cnn": train_design(CNN, (8, 8, 1), epochs=3, folder=root / "cnn"),
    }


@pytest.fixture(scope="session")
def exported(design_dirs: dict[str, Path], csim_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """``(out_dir, results)`` of exporting :data:`EXPORT_CASES` with two jobs."""
    from codesign.export import export_designs, request_from_design

    requests = []
    for kind, design_id, hw in EXPORT_CASES:
        base = request_from_design(design_dirs[kind])
        requests.append(replace(base, design_id=design_id, hardware=hw))
    out = tmp_path_factory.mktemp("exports")
    results = export_designs(requests, out, jobs=2, cache_dir=csim_cache, progress=False)
    return out, results
