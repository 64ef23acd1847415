"""The per-design work a worker process does: QONNX cleanup, hls4ml conversion, project files, C simulation.

Runs in a worker process started by :func:`codesign.export.parallel.run_tasks` (its stdout/stderr go
to the project's ``logs/export.log``). Inputs and results are plain JSON data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.export._directives import check_build_script, write_directives
from codesign.export._qonnx import clean_qonnx
from codesign.export._softmax_table import check_written_softmax
from codesign.export.translate import check_fifo_pragmas, translate
from codesign.export.verify import verify_project
from cost_models.ir import LayerGraph
from hw_templates.config import Backend, HardwareConfig

__all__ = ["QONNX_CLEAN", "QONNX_RAW", "ExportTask", "export_task"]

QONNX_RAW = "qonnx/model_brevitas.onnx"
QONNX_CLEAN = "qonnx/model_hls4ml.onnx"


@dataclass(frozen=True)
class ExportTask:
    """One design for a worker: where its project is, what it is, and what to do with it.

    Attributes:
        project: the design's project folder (already holds the raw QONNX file and test vectors).
        graph / hardware: the design, as JSON-ready dicts.
        backend: hls4ml backend name (``Backend`` value).
        cache_dir: the shared compile cache, or None.
        build: also run vendor synthesis when the tools exist.
    """

    project: str
    graph: dict[str, Any]
    hardware: dict[str, Any]
    backend: str
    cache_dir: str | None
    build: bool


def export_task(data: dict[str, Any]) -> dict[str, Any]:
    """Convert, write, compile and verify one design (an :class:`ExportTask` as a dict); returns the record."""
    task = ExportTask(**data)
    project = Path(task.project)
    graph = LayerGraph.from_dict(task.graph)
    hw = HardwareConfig.from_dict(task.hardware)
    start = time.perf_counter()
    clean_qonnx(project / QONNX_RAW, project / QONNX_CLEAN)
    backend = Backend.parse(task.backend, "backend")
    translation = translate(project / QONNX_CLEAN, graph, hw, project, backend=backend)
    converted = time.perf_counter()
    translation.hls_model.write()
    check_written_softmax(project)
    check_fifo_pragmas(project, translation.fifo_depths)
    multiplier = write_directives(project, hw)
    check_build_script(project, hw)
    written = time.perf_counter()
    verification = verify_project(project, cache_dir=task.cache_dir)
    synthesis = None
    if task.build:
        from codesign.export.synth import synthesize

        synthesis = synthesize(project, graph, hw, translation.hls_model, backend=backend)
    return {
        "applied": [a.to_dict() for a in translation.applied],
        "input_precision": translation.input_precision.to_hls(),
        "layer_map": dict(translation.layer_map.onnx_to_ir),
        "fifo_depths": dict(translation.fifo_depths),
        "multiplier_directive": multiplier,
        "timings": {"convert_seconds": round(converted - start, 3), "write_seconds": round(written - converted, 3)},
        "verification": verification.to_dict(),
        "synthesis": synthesis,
    }
