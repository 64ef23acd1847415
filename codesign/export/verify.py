"""Bit-exact verification: the hls4ml C model against the trained Brevitas model, sample by sample.

An exported project carries its test vectors in hls4ml's testbench files: ``tb_data/tb_input_features.dat``
(the test split, one flattened sample per line, in the model's input layout) and
``tb_data/tb_output_predictions.dat`` (the Brevitas model's outputs for them), plus
``tb_data/tb_labels.dat`` (the true classes). :func:`verify_project` compiles the C model with g++
(:mod:`codesign.export._csim`: in the toolkit's own cache, from a copy of the project's sources; nothing
built is taken from the folder), runs every sample through it, and writes ``verification.json``:

* ``bit_exact_mismatches``: samples whose C-simulation output differs from the model's in any element
  (exact float comparison: both are fixed-point values, exactly representable as doubles);
* ``max_abs_diff``; ``model_accuracy`` and ``csim_accuracy`` (argmax against the labels);
* ``n_samples``, ``compile_seconds``, ``csim_seconds``, and whether the build was reused.

Any mismatch is a failure: :func:`verify_exports` raises :class:`~hw_templates.errors.VerificationError`
naming the designs (after writing every report). ``codesign verify`` is the command-line form.

Example:
    >>> results = verify_exports("runs/demo/exports", jobs=2)  # doctest: +SKIP
    >>> [r.bit_exact_mismatches for r in results]  # doctest: +SKIP
    [0, 0, 0]
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from codesign.config_io import MAX_CONFIG_BYTES, check_input_file, read_json
from codesign.export._csim import build_library, check_sources, default_cache_dir, run_library
from hw_templates.atomic import atomic_write_json
from hw_templates.errors import ExportError, SpecError, VerificationError, clip, shown

__all__ = [
    "MANIFEST",
    "TB_FLOAT_SOFTMAX",
    "TB_INPUT",
    "TB_LABELS",
    "TB_OUTPUT",
    "TB_TRAINED",
    "VERIFICATION",
    "VerificationResult",
    "find_projects",
    "verify_exports",
    "verify_project",
]

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
VERIFICATION = "verification.json"
TB_INPUT = "tb_data/tb_input_features.dat"
TB_OUTPUT = "tb_data/tb_output_predictions.dat"
TB_LABELS = "tb_data/tb_labels.dat"
#: The trained model's own outputs, written when the reference differs from them (lookup-table activations).
TB_TRAINED = "tb_data/tb_trained_outputs.dat"
#: For a design ending in a softmax: the trained network with a float softmax instead of hls4ml's table.
TB_FLOAT_SOFTMAX = "tb_data/tb_float_softmax_outputs.dat"
COMPILE_LOG = "logs/compile.log"
#: Manifest statuses of an export that ran to the end (``incomplete`` and ``failed`` ones are not verified).
FINISHED = ("verified", "mismatch")
UNFINISHED = ("incomplete", "failed")
#: Largest test-vector file read, and most values per sample a manifest may declare.
MAX_VECTOR_BYTES = 1 << 30
MAX_IO_VALUES = 1 << 24


@dataclass(frozen=True)
class VerificationResult:
    """How one exported design's C simulation compares with its trained model.

    Attributes:
        design_id: the design.
        project_dir: the exported project.
        n_samples: test samples simulated.
        bit_exact_mismatches: samples whose outputs differ at all (must be 0).
        max_abs_diff: largest absolute output difference over all samples and outputs.
        model_accuracy / csim_accuracy: argmax accuracy of the trained model's and the C model's outputs
            (None without labels).
        first_mismatch: index of the first differing sample, or None.
        compile_seconds / csim_seconds: wall time of the g++ build (0 when reused) and of the simulation.
        compile_reused: an identical earlier build was reused.
        used_pch: the shared precompiled header was used.
        reference: what ``tb_output_predictions.dat`` holds: the trained model's outputs, or (designs with
            lookup-table activations) the trained model with hls4ml's table semantics
            (:mod:`codesign.export._tables`).
        trained_max_abs_diff / trained_argmax_agreement: for a table reference, the C simulation against
            the trained model itself: largest absolute output difference, fraction of samples with the
            same argmax (None otherwise).
        float_softmax_max_abs_diff / float_softmax_argmax_agreement: for a design ending in a softmax (the
            trained model evaluates it as hls4ml's table), the C simulation against the same network with a
            float softmax: what the tables change (None otherwise).
    """

    design_id: str
    project_dir: str
    n_samples: int
    bit_exact_mismatches: int
    max_abs_diff: float
    model_accuracy: float | None
    csim_accuracy: float | None
    first_mismatch: int | None
    compile_seconds: float
    csim_seconds: float
    compile_reused: bool
    used_pch: bool
    reference: str = "trained model"
    trained_max_abs_diff: float | None = None
    trained_argmax_agreement: float | None = None
    float_softmax_max_abs_diff: float | None = None
    float_softmax_argmax_agreement: float | None = None

    @property
    def passed(self) -> bool:
        return self.bit_exact_mismatches == 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationResult:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def read_manifest(project: Path) -> dict[str, Any]:
    """The project's ``manifest.json``.

    Raises:
        ExportError: missing, unreadable or malformed (one line, through the strict JSON reader).
    """
    path = project / MANIFEST
    if not path.is_file():
        raise ExportError(f"{project}: not an exported design (no {MANIFEST}); run codesign export first")
    try:
        return read_json(path, "manifest", MAX_CONFIG_BYTES * 16)
    except SpecError as err:
        raise ExportError(str(err)) from None


def _load_matrix(project: Path, name: str, columns: int, dtype: Any = np.float64) -> np.ndarray:
    path = project / name
    try:
        check_input_file(path, "test vectors", MAX_VECTOR_BYTES, "file", ExportError)
        data = np.loadtxt(path, dtype=dtype, ndmin=2)
    except (OSError, ValueError, OverflowError) as err:
        raise ExportError(f"{path}: cannot read the test vectors ({clip(err, 160)})") from None
    if data.shape[1] != columns:
        raise ExportError(f"{path}: expected {columns} values per line, found {data.shape[1]}")
    return data


def _io_size(manifest: dict[str, Any], project: Path, key: str) -> int:
    value = manifest["io"].get(key) if isinstance(manifest["io"], dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_IO_VALUES:
        raise ExportError(
            f"{project / MANIFEST}: io.{key}: expected an integer in 1..{MAX_IO_VALUES}, got {shown(value)}"
        )
    return value


def check_project(project: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray | None]:
    """Everything verification reads, checked before anything is written: manifest, test vectors, labels.

    Raises:
        ExportError: a missing, unfinished or malformed export (one line naming the file).
    """
    manifest = read_manifest(project)
    if "io" not in manifest:
        raise ExportError(
            f"{project}: the export did not finish (status {shown(manifest.get('status'))}); export again"
        )
    for key in ("project_name", "design_id"):
        if not isinstance(manifest.get(key), str):
            raise ExportError(f"{project / MANIFEST}: {key}: expected a string, got {shown(manifest.get(key))}")
    check_sources(project, manifest["project_name"])
    inputs = _load_matrix(project, TB_INPUT, _io_size(manifest, project, "n_inputs"))
    expected = _load_matrix(project, TB_OUTPUT, _io_size(manifest, project, "n_outputs"))
    labels = None
    if (project / TB_LABELS).is_file():
        labels = _load_matrix(project, TB_LABELS, 1, np.int64).reshape(-1)
    if len(expected) != len(inputs) or (labels is not None and len(labels) != len(inputs)):
        raise ExportError(f"{project / 'tb_data'}: the test-vector files hold different numbers of samples")
    return manifest, inputs, expected, labels


def _accuracy(outputs: np.ndarray, labels: np.ndarray | None) -> float | None:
    if labels is None or len(labels) == 0:
        return None
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


def _against(prefix: str, csim: np.ndarray, other: np.ndarray | None) -> dict[str, float]:
    """Largest difference and argmax agreement of the C simulation with ``other`` outputs (none without)."""
    if other is None:
        return {}
    return {
        f"{prefix}_max_abs_diff": float(np.max(np.abs(csim - other))) if len(csim) else 0.0,
        f"{prefix}_argmax_agreement": float(np.mean(np.argmax(csim, 1) == np.argmax(other, 1))) if len(csim) else 1.0,
    }


def _optional_matrix(project: Path, name: str, csim: np.ndarray) -> np.ndarray | None:
    if not (project / name).is_file():
        return None
    values = _load_matrix(project, name, csim.shape[1])
    if len(values) != len(csim):
        raise ExportError(f"{project / name}: expected {len(csim)} samples, found {len(values)}")
    return values


def verify_project(project: str | Path, *, cache_dir: str | Path | None = None) -> VerificationResult:
    """Compile an exported project's C model, simulate the test vectors, compare, write ``verification.json``.

    Does not raise on mismatches (the result says so); :func:`verify_exports` does.

    Raises:
        ExportError: missing files or a failed compile (the message names the log).
        ToolNotFoundError: no g++.
    """
    project = Path(project)
    manifest, inputs, expected, labels = check_project(project)
    compiled = build_library(
        project, manifest["project_name"], project / COMPILE_LOG, Path(cache_dir) if cache_dir else None
    )
    start = time.perf_counter()
    csim = run_library(compiled.library, manifest["project_name"], inputs, expected.shape[1])
    csim_seconds = time.perf_counter() - start
    differs = np.any(csim != expected, axis=1)
    trained = _optional_matrix(project, TB_TRAINED, csim)
    reference = {"reference": str(manifest["io"].get("reference", "table semantics"))} if trained is not None else {}
    result = VerificationResult(
        design_id=str(manifest["design_id"]),
        project_dir=str(project),
        n_samples=len(inputs),
        bit_exact_mismatches=int(differs.sum()),
        max_abs_diff=float(np.max(np.abs(csim - expected))) if len(inputs) else 0.0,
        model_accuracy=_accuracy(trained if trained is not None else expected, labels),
        csim_accuracy=_accuracy(csim, labels),
        first_mismatch=int(np.argmax(differs)) if differs.any() else None,
        compile_seconds=round(compiled.seconds, 3),
        csim_seconds=round(csim_seconds, 4),
        compile_reused=compiled.reused,
        used_pch=compiled.used_pch,
        **reference,
        **_against("trained", csim, trained),
        **_against("float_softmax", csim, _optional_matrix(project, TB_FLOAT_SOFTMAX, csim)),
    )
    atomic_write_json(project / VERIFICATION, result.to_dict())
    return result


def find_projects(path: str | Path) -> list[Path]:
    """Exported projects at ``path``: itself, its sub-folders, or those of its ``exports/`` folder.

    Raises:
        ExportError: ``path`` does not exist or holds no exported design.
    """
    path = Path(path)
    if not path.is_dir():
        raise ExportError(f"{path}: no such folder (expected an export folder, a design folder or a run folder)")
    if (path / MANIFEST).is_file():
        return [path]
    for folder in (path, path / "exports", path / "export"):
        found = sorted(p.parent for p in folder.glob(f"*/{MANIFEST}")) if folder.is_dir() else []
        if found:
            return found
    raise ExportError(f"{path}: no exported designs found (folders with {MANIFEST}); run codesign export first")


def raise_on_failures(results: list[VerificationResult]) -> None:
    """Raise one VerificationError line naming every design whose C simulation differs from its model."""
    bad = [r for r in results if not r.passed]
    if bad:
        named = ", ".join(f"{r.design_id} ({r.bit_exact_mismatches}/{r.n_samples} samples differ)" for r in bad)
        raise VerificationError(
            f"C simulation is not bit-exact for {len(bad)} of {len(results)} designs: {named}; "
            f"see {Path(bad[0].project_dir) / VERIFICATION}"
        )


def verify_exports(
    path: str | Path,
    *,
    jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    check: bool = True,
) -> list[VerificationResult]:
    """Re-check exported designs: compile (or reuse) each C model and compare with the stored vectors.

    Args:
        path: an export folder, one exported design, or a run/design folder with an ``exports/`` folder.
        jobs: designs verified in parallel (worker processes).
        cache_dir: the compile cache (precompiled header, libraries; never inside an input folder):
            default :func:`~codesign.export._csim.default_cache_dir`.
        progress: show a progress bar.
        check: raise VerificationError when any design is not bit-exact.

    Raises:
        ExportError: nothing to verify, or a project could not be compiled (log named).
        VerificationError: a mismatch, with ``check=True``.
    """
    from codesign.export.parallel import resolve_jobs, run_tasks, task_timeout

    projects = find_projects(path)
    unfinished = [p for p in projects if read_manifest(p).get("status") in UNFINISHED]
    if unfinished:  # an interrupted export can have compiled already: never report it verified
        status = read_manifest(unfinished[0]).get("status")
        more = f" and {len(unfinished) - 1} more" if len(unfinished) > 1 else ""
        raise ExportError(
            f"{unfinished[0]}{more}: the export did not finish (status {status!r}); it was interrupted or failed: "
            "run codesign export again (it resumes: verified designs are kept, these are redone)"
        )
    resolve_jobs(jobs, len(projects))
    timeout = task_timeout()
    for project in projects:  # every refusal before the first log or cache file is written
        check_project(project)
    cache = (Path(cache_dir) if cache_dir else default_cache_dir()).resolve()
    tasks = [{"project": str(p), "cache_dir": str(cache)} for p in projects]
    logs = [p / "logs" / "verify.log" for p in projects]
    target = "codesign.export.verify:verify_task"
    outcomes = run_tasks(target, tasks, logs=logs, jobs=jobs, desc="verify", progress=progress, timeout=timeout)
    results = [VerificationResult.from_dict(o) for o in outcomes if isinstance(o, dict)]
    for result in results:
        _record_in_manifest(Path(result.project_dir), result)
    errors = [o for o in outcomes if not isinstance(o, dict)]
    if errors:
        more = f" (and {len(errors) - 1} more failures)" if len(errors) > 1 else ""
        raise type(errors[0])(f"{errors[0]}{more}")
    if check:
        raise_on_failures(results)
    return results


def verify_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker entry (see :mod:`codesign.export.parallel`): verify one project."""
    return verify_project(task["project"], cache_dir=task["cache_dir"]).to_dict()


def _record_in_manifest(project: Path, result: VerificationResult) -> None:
    manifest = read_manifest(project)
    manifest["verification"] = result.to_dict()
    if manifest.get("status") in ("verified", "mismatch"):
        manifest["status"] = "verified" if result.passed else "mismatch"
    atomic_write_json(project / MANIFEST, manifest)
