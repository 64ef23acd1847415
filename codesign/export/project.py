"""Export designs as hls4ml projects: one folder per design, checked bit for bit by C simulation.

Each design becomes ``<out>/<design_id>/``, an hls4ml project (``firmware/``, ``build_prj.tcl``,
``hls4ml_config.yml``, ...) plus:

* ``manifest.json``: status (``incomplete`` while being written, then ``verified``, ``mismatch`` or
  ``failed``), the design record, the estimated cost, accuracies, what hls4ml applied per layer, tool
  versions and timings;
* ``qonnx/model_brevitas.onnx`` (the Brevitas QONNX export) and ``qonnx/model_hls4ml.onnx`` (after the
  qonnx cleanup hls4ml converts);
* the test vectors in hls4ml's testbench files ``tb_data/tb_input_features.dat`` and
  ``tb_data/tb_output_predictions.dat`` (plus ``tb_data/tb_labels.dat``);
* ``verification.json`` (see :mod:`codesign.export.verify`) and ``logs/``.

``<out>/exports.json`` indexes the designs. Nothing is written outside ``out``. A rerun resumes an
interrupted export: a design already exported (``verified`` or ``mismatch``) is kept, one left
``incomplete`` (or ``failed``) is redone; ``force=True`` redoes every design; a folder that is not an
export, or holds another design, is never replaced without ``force`` (and never when it is not an
export). A design that fails keeps its folder with ``status: failed`` and the error, so its logs can be
read. The export's workers run in their own process groups and end with it (Ctrl-C, SIGTERM, SIGKILL;
:mod:`codesign.export.parallel`).

Example:
    >>> from codesign.export import export_designs
    >>> results = export_designs(["runs/digits_mlp"], "exports", jobs=2)  # doctest: +SKIP
    >>> [(r.design_id, r.status) for r in results]  # doctest: +SKIP
    [('digits_mlp', 'verified')]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesign.export._csim import default_cache_dir, remove_stale_staging
from codesign.export._folders import (
    INDEX,
    finished_export,
    fresh_project_folder,
    is_export_folder,
    output_folder,
    project_path,
)
from codesign.export._manifest import base_manifest, finish_manifest, write_json
from codesign.export._request import (
    ExportRequest,
    as_request,
    request_from_design,
    request_from_run,
    request_from_trained,
    requests_from_run,
)
from codesign.export._worker import QONNX_RAW, ExportTask
from codesign.export.verify import (
    MANIFEST,
    TB_FLOAT_SOFTMAX,
    TB_INPUT,
    TB_LABELS,
    TB_OUTPUT,
    TB_TRAINED,
    VerificationResult,
    raise_on_failures,
)
from hw_templates import errors
from hw_templates.config import Backend
from hw_templates.errors import CodesignError, ExportError, SpecError, bad_value

__all__ = [
    "ExportRequest",
    "ExportResult",
    "check_results",
    "export_designs",
    "request_from_design",
    "request_from_run",
    "request_from_trained",
    "requests_from_run",
]

logger = logging.getLogger(__name__)

_TARGET = "codesign.export._worker:export_task"


@dataclass(frozen=True)
class ExportResult:
    """What exporting one design produced.

    Attributes:
        design_id / project_dir: the design and its project folder.
        status: ``verified`` (0 mismatches), ``mismatch`` or ``failed``.
        verification: the C-simulation comparison, None when it did not run.
        error: the failure's one-line message, or None.
        manifest: the written manifest.
    """

    design_id: str
    project_dir: Path
    status: str
    verification: VerificationResult | None
    error: str | None
    manifest: Mapping[str, Any] = field(repr=False, default_factory=dict)


def _write_vectors(project: Path, name: str, values: np.ndarray, fmt: str) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, values.reshape(len(values), -1), fmt=fmt, delimiter=" ")


def _stage(request: ExportRequest, project: Path, backend: Backend) -> dict[str, Any]:
    """Main-process part: QONNX export and the reference outputs of the trained model (needs torch)."""
    from codesign.export._tables import TABLE_REFERENCE, reference_outputs_for
    from codesign.export.translate import check_exportable
    from codesign.export.user_model import write_qonnx

    check_exportable(request.graph, request.hardware, backend)
    start = time.perf_counter()
    (project / QONNX_RAW).parent.mkdir(parents=True, exist_ok=True)
    write_qonnx(request.model, tuple(request.inputs.shape[1:]), project / QONNX_RAW)
    exported = time.perf_counter()
    outputs, trained, float_softmax = reference_outputs_for(request.model, request.graph, request.inputs)
    _write_vectors(project, TB_INPUT, request.inputs.astype(np.float64), "%.17g")
    _write_vectors(project, TB_OUTPUT, outputs.astype(np.float64), "%.17g")
    if trained is not None:
        _write_vectors(project, TB_TRAINED, trained.astype(np.float64), "%.17g")
    if float_softmax is not None:
        _write_vectors(project, TB_FLOAT_SOFTMAX, float_softmax.astype(np.float64), "%.17g")
    if request.labels is not None:
        _write_vectors(project, TB_LABELS, np.asarray(request.labels), "%d")
    return {
        "n_inputs": int(np.prod(request.inputs.shape[1:])),
        "n_outputs": int(np.prod(outputs.shape[1:])),
        "input_shape": list(request.inputs.shape[1:]),
        "input_layout": "model (torch: channels first), flattened row-major",
        "qonnx_export_seconds": round(exported - start, 3),
        "reference": "trained model" if trained is None else TABLE_REFERENCE,
    }


def export_designs(
    designs: Sequence[Any],
    out_dir: str | Path,
    *,
    backend: Backend | str | None = None,
    jobs: int | None = 1,
    force: bool = False,
    build: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    check: bool = True,
) -> list[ExportResult]:
    """Export designs as hls4ml projects and verify each bit-exact by C simulation.

    Args:
        designs: :class:`ExportRequest` objects, saved design folders, or ``(TrainedDesign, model, id)``.
        out_dir: the output folder (created; nothing is written outside it).
        backend: override every design's backend (``vitis``, ``vivado``, ``quartus``, ``catapult``).
        jobs: designs processed in parallel (0 or None: one per CPU).
        force: redo every design, also those already exported (default: keep verified designs, redo
            incomplete or failed ones).
        build: run vendor synthesis too where Vivado/Vitis HLS is installed (else one log line).
        cache_dir: the compile cache (precompiled header, libraries); default
            :func:`~codesign.export._csim.default_cache_dir`.
        progress: show a progress bar.
        check: raise when a design fails or is not bit-exact (after all are written).

    Raises:
        ExportError: a design could not be exported (first failure named; every design is attempted).
        VerificationError: a C simulation differs from its model.
        ToolNotFoundError: no g++.
    """
    from codesign.export._csim import compiler
    from codesign.outputs import check_output_dir

    backend_choice = Backend.parse(backend, "backend") if backend is not None else None
    compiler()  # fail at once, before any folder is written, when g++ is missing
    check_output_dir(out_dir, "output folder", produces=(INDEX,), own=is_export_folder)
    requests = [as_request(d) for d in designs]
    ids = [r.design_id for r in requests]
    if len(set(ids)) != len(ids):
        raise SpecError(bad_value("design ids", sorted({i for i in ids if ids.count(i) > 1}), "unique ids"))
    from codesign.export.parallel import resolve_jobs, task_timeout

    resolve_jobs(jobs, len(requests))  # a bad --jobs or time limit is refused before any folder is written
    task_timeout()
    out = output_folder(out_dir)
    cache = (Path(cache_dir) if cache_dir else default_cache_dir()).resolve()
    if cache.is_dir():
        remove_stale_staging(cache)  # left by an export that was killed while it built the header
    if build:
        from codesign.export.synth import announce_synthesis

        announce_synthesis()
    kept = {r.design_id: _kept(out, r, force) for r in requests}
    staged = [_stage_one(r, out, backend_choice) for r in requests if kept[r.design_id] is None]
    ready = [s for s in staged if s.manifest["status"] == "incomplete"]
    _prepare_cache(cache, [s.backend for s in ready])
    tasks = [s.task(str(cache), build) for s in ready]
    finished: dict[str, ExportResult] = {}

    def done(index: int, outcome: Any) -> None:  # each design's manifest is final as soon as it is verified
        finished[ready[index].request.design_id] = _finish(ready[index], outcome)

    _run(tasks, jobs, progress, done)
    for s in staged:  # failed while staged (or not run): final already
        if s.request.design_id not in finished:
            finished[s.request.design_id] = _finish(s, None)
    results = [kept[r.design_id] or finished[r.design_id] for r in requests]
    write_json(out / INDEX, {"designs": [_index_entry(x) for x in results]})
    if check:
        check_results(results)
    return results


def _kept(out: Path, request: ExportRequest, force: bool) -> ExportResult | None:
    manifest = finished_export(out, request, force)
    if manifest is None:
        return None
    verification = VerificationResult.from_dict(manifest["verification"])
    return ExportResult(request.design_id, project_path(out, request.design_id), manifest["status"], verification,
                        None, manifest)  # fmt: skip


@dataclass
class _Staged:
    """A design after the main-process part: its folder, backend and (mutable) manifest."""

    request: ExportRequest
    project: Path
    backend: Backend
    manifest: dict[str, Any]

    def task(self, cache: str, build: bool) -> ExportTask:
        hw = self.request.hardware
        return ExportTask(
            str(self.project), self.request.graph.to_dict(), hw.to_dict(), self.backend.value, cache, build
        )


def _stage_one(request: ExportRequest, out: Path, backend: Backend | None) -> _Staged:
    """Create the design's folder, write its first manifest, export QONNX and the test vectors.

    Raises:
        ExportError: the folder cannot be written (disk full, permissions); the folder keeps
            ``status: incomplete`` when even the manifest could not be updated.
    """
    project = fresh_project_folder(out, request.design_id)
    chosen = backend or request.hardware.backend
    manifest = base_manifest(request, chosen)
    try:
        write_json(project / MANIFEST, manifest)
        try:
            manifest["io"] = _stage(request, project, chosen)
        except CodesignError as err:
            manifest.update(status="failed", error=str(err), error_type=type(err).__name__)
        write_json(project / MANIFEST, manifest)
    except OSError as err:
        raise ExportError(f"writing {project}: {err.strerror or err} (the design folder is left incomplete)") from None
    return _Staged(request, project, chosen, manifest)


def _prepare_cache(cache: Path, backends: list[str]) -> None:
    """Build the shared precompiled header once, before workers start (they would each build it)."""
    if not any(b in (Backend.VITIS.value, Backend.VIVADO.value) for b in backends):
        return
    import hls4ml

    from codesign.export._csim import ensure_pch

    ensure_pch(cache, Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types")


def _run(tasks: list[ExportTask], jobs: int | None, progress: bool, on_done: Any) -> list[Any]:
    """The worker part of every task, in worker processes: a result dict or a CodesignError per task."""
    from codesign.export.parallel import run_tasks, task_timeout

    logs = [Path(t.project) / "logs" / "export.log" for t in tasks]
    timeout = None if any(t.build for t in tasks) else task_timeout()  # vendor synthesis may take hours
    return run_tasks(
        _TARGET, [asdict(t) for t in tasks], logs=logs, jobs=jobs, desc="export", progress=progress, timeout=timeout,
        on_done=on_done,
    )  # fmt: skip


def _finish(staged: _Staged, outcome: Any) -> ExportResult:
    manifest = staged.manifest
    finish_manifest(manifest, outcome)
    write_json(staged.project / MANIFEST, manifest)
    verification = None
    if isinstance(outcome, dict):
        verification = VerificationResult.from_dict(outcome["verification"])
    design_id = staged.request.design_id
    return ExportResult(design_id, staged.project, manifest["status"], verification, manifest.get("error"), manifest)


def _index_entry(result: ExportResult) -> dict[str, Any]:
    v = result.verification
    return {
        "design_id": result.design_id,
        "folder": result.project_dir.name,
        "status": result.status,
        "bit_exact_mismatches": v.bit_exact_mismatches if v else None,
        "model_accuracy": v.model_accuracy if v else None,
        "csim_accuracy": v.csim_accuracy if v else None,
        "error": result.error,
    }


def check_results(results: list[ExportResult]) -> None:
    """Raise for the first failed design (its own error type), then for any C-simulation mismatch.

    Raises:
        CodesignError: the first failed design's recorded error type (ExportError when unrecorded).
        VerificationError: a C simulation differs from its model.
    """
    failed = [r for r in results if r.status == "failed"]
    if failed:
        first = failed[0]
        more = f" ({len(failed) - 1} more failed, see {INDEX})" if len(failed) > 1 else ""
        kind = getattr(errors, str(first.manifest.get("error_type")), None)
        kind = kind if isinstance(kind, type) and issubclass(kind, CodesignError) else ExportError
        raise kind(f"design {first.design_id!r}: {first.error}{more}")
    raise_on_failures([r.verification for r in results if r.verification is not None])
