"""Export folders: the output folder, one project folder per design, and what a rerun keeps (resume)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from codesign.export.verify import FINISHED, MANIFEST, read_manifest
from hw_templates.errors import ExportError

__all__ = ["INDEX", "finished_export", "fresh_project_folder", "is_export_folder", "output_folder", "project_path"]

_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
#: The index an export writes into its output folder.
INDEX = "exports.json"


def is_export_folder(out: Path) -> bool:
    """True when ``out/exports.json`` is an export's own index (a rerun may rewrite it): a JSON object
    ``{"designs": [...]}`` whose every entry names a design folder of ``out`` that has its manifest.
    A user's own ``exports.json`` (anything else) is not: the output-path check refuses to overwrite it."""
    from codesign.config_io import read_json
    from hw_templates.errors import SpecError

    try:
        index = read_json(out / INDEX, INDEX)
    except SpecError:
        return False
    designs = index.get("designs")
    if set(index) != {"designs"} or not isinstance(designs, list):
        return False
    return all(
        isinstance(d, dict)
        and isinstance(d.get("folder"), str)
        and _SAFE_ID.sub("_", d["folder"]) == d["folder"]
        and (out / d["folder"] / MANIFEST).is_file()
        for d in designs
    )


def output_folder(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or str(err)
        raise ExportError(f"output folder {str(out)!r}: not writable ({reason}); choose another --out") from None
    return out.resolve()


def project_path(out: Path, design_id: str) -> Path:
    safe = _SAFE_ID.sub("_", design_id).strip(".") or "design"
    project = (out / safe).resolve()
    if project.parent != out:
        raise ExportError(f"design id {design_id!r}: gives a folder outside the output folder {str(out)!r}")
    return project


def finished_export(out: Path, request: Any, force: bool) -> dict[str, Any] | None:
    """The manifest of a finished export of the same design to keep (a rerun resumes without ``force``),
    else None.

    Verified (and mismatching) designs are kept; incomplete or failed ones are redone. A failed export of
    another design (e.g. the same id with other hardware, after the first try was refused) is replaced too:
    it holds nothing to keep, and the rerun that fixes the refusal needs no ``force``.

    Raises:
        ExportError: the folder holds something else (not an export, or another design's finished or
            running export) and ``force`` is off.
    """
    project = project_path(out, request.design_id)
    if not project.exists():
        return None
    if not (project / MANIFEST).is_file():
        if any(project.iterdir()):
            raise ExportError(f"{project}: exists and is not an export (no {MANIFEST}); not replacing it")
        return None
    if force:
        return None
    manifest = read_manifest(project)
    design = manifest.get("design", {})
    same = _plain(design.get("graph")) == _plain(request.graph.to_dict()) and _plain(design.get("hardware")) == _plain(
        request.hardware.to_dict()
    )
    if not same and manifest.get("status") != "failed":
        raise ExportError(f"{project}: holds the export of another design; use --force (force=True) to replace it")
    if manifest.get("status") in FINISHED and manifest.get("verification"):
        return manifest
    return None


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def fresh_project_folder(out: Path, design_id: str) -> Path:
    """A fresh folder for the design (an earlier export there, finished or not, is replaced)."""
    project = project_path(out, design_id)
    if project.exists():
        shutil.rmtree(project)
    project.mkdir()
    return project
