"""The ``manifest.json`` of an exported design: what it is, what it should cost, what was checked.

Fields (format ``codesign-export/1``): ``status``, ``design_id``, ``project_name``, ``backend``,
``created``, ``design`` (graph, hardware, recorded accuracy and the request's record),
``estimated_cost`` (the analytical cost model's ``Cost.to_dict()``, or None with
``estimated_cost_error``), ``io`` (test-vector sizes and layout), ``hls4ml`` (input precision, the
per-layer read-back, the ONNX-node -> IR-layer map), ``verification``, ``synthesis``, ``timings``,
``tool_versions``, ``files`` and ``error``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cost_models.exported import MANIFEST_FORMAT
from hw_templates.atomic import atomic_write_json
from hw_templates.config import Backend
from hw_templates.errors import CodesignError

__all__ = ["FORMAT", "base_manifest", "finish_manifest", "tool_versions", "write_json"]

logger = logging.getLogger(__name__)

FORMAT = MANIFEST_FORMAT  # read back by codesign calibrate (cost_models.exported)
_PACKAGES = ("fpga-codesign", "hls4ml", "brevitas", "torch", "qonnx", "onnx", "numpy")


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temporary file + rename), so a crash never leaves half a manifest."""
    atomic_write_json(path, data)


@functools.lru_cache(maxsize=1)
def tool_versions() -> dict[str, str | None]:
    """Versions of the packages and the compiler an export depends on."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    try:
        gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True, check=False).stdout
        out["g++"] = gxx.splitlines()[0] if gxx else None
    except OSError:
        out["g++"] = None
    return out


def _estimate(request: Any) -> tuple[dict[str, Any] | None, str | None]:
    from cost_models import get_cost_model

    try:
        cost = get_cost_model("analytical").estimate(request.graph, request.hardware)
    except CodesignError as err:
        return None, str(err)
    except Exception as err:  # the estimate is a record, not a product: a cost-model bug must not stop an export
        logger.warning("design %s: the cost model failed (%s: %s)", request.design_id, type(err).__name__, err)
        return None, f"cost model failed: {type(err).__name__}: {err}"
    return cost.to_dict(), None


def base_manifest(request: Any, backend: Backend) -> dict[str, Any]:
    """The manifest written before any work (status ``incomplete``)."""
    from codesign.export.translate import PROJECT_NAME

    cost, cost_error = _estimate(request)
    return {
        "format": FORMAT,
        "status": "incomplete",
        "design_id": request.design_id,
        "project_name": PROJECT_NAME,
        "backend": backend.value,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "design": {
            "graph": request.graph.to_dict(),
            "hardware": request.hardware.to_dict(),
            "accuracy": request.accuracy,
            **dict(request.record),
        },
        "estimated_cost": cost,
        "estimated_cost_error": cost_error,
        "files": {
            "qonnx": "qonnx/model_brevitas.onnx",
            "qonnx_hls4ml": "qonnx/model_hls4ml.onnx",
            "tb_input": "tb_data/tb_input_features.dat",
            "tb_output": "tb_data/tb_output_predictions.dat",
            "tb_labels": "tb_data/tb_labels.dat",
            "verification": "verification.json",
            "logs": "logs/",
        },
        "tool_versions": tool_versions(),
        "error": None,
    }


def finish_manifest(manifest: dict[str, Any], outcome: Any) -> None:
    """Fold a worker's outcome (a result dict or a CodesignError) into the manifest, in place."""
    if manifest["status"] == "failed":
        return
    if outcome is None or isinstance(outcome, BaseException):
        manifest["status"] = "failed"
        manifest["error"] = str(outcome) if outcome is not None else "not run"
        manifest["error_type"] = type(outcome).__name__ if outcome is not None else None
        return
    verification = outcome["verification"]
    manifest["status"] = "verified" if verification["bit_exact_mismatches"] == 0 else "mismatch"
    manifest["hls4ml"] = {
        "input_precision": outcome["input_precision"],
        "applied": outcome["applied"],
        "layer_map": outcome["layer_map"],
        "fifo_depths": outcome.get("fifo_depths", {}),
        "multiplier_directive": outcome.get("multiplier_directive"),
    }
    manifest["verification"] = verification
    manifest["synthesis"] = outcome["synthesis"]
    manifest["timings"] = {
        "qonnx_export_seconds": manifest["io"].get("qonnx_export_seconds"),
        **outcome["timings"],
        "compile_seconds": verification["compile_seconds"],
        "csim_seconds": verification["csim_seconds"],
    }
