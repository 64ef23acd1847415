"""Trained weights any machine can reach: each trial's files in an Optuna artifact store.

A trial that trains a model keeps its folder (``design.json``, ``weights.pt``) in the run folder of the
machine that trained it, and uploads the same files through Optuna's artifact API
(``optuna.artifacts.upload_artifact``) before the trial is told, so the study's storage knows them.
``codesign export RUN --storage URL`` on any machine then finds a design's weights: the trial folder
when it is there, else a download from the artifact store into it (:func:`fetch_trial_folder`).

Where the store is: a folder (``FileSystemArtifactStore``; by default ``<run>/artifacts``, for a sweep
``<sweep>/artifacts``; on several machines, a folder all of them mount) or ``s3://BUCKET`` (Optuna's
``Boto3ArtifactStore``, for S3 and S3-compatible servers; needs ``boto3`` and the usual AWS
environment variables). The location is recorded in the study (user attribute ``artifact_store``), so
a worker or an export finds it without being told; ``--artifacts`` overrides it where a shared folder
is mounted elsewhere.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hw_templates.errors import SearchError, SpecError, bad_value

__all__ = ["ARTIFACT_ATTR", "fetch_trial_folder", "open_artifact_store", "study_artifact_store", "upload_folder"]

#: The study user attribute that records where the artifact store is.
ARTIFACT_ATTR = "artifact_store"


def open_artifact_store(location: str | Path, create: bool = True) -> Any:
    """An Optuna artifact store: ``s3://BUCKET`` or a folder (created when ``create``).

    Raises:
        SpecError: a malformed URL, boto3 missing for S3, or a folder that does not exist (``create=False``).
    """
    from optuna.artifacts import Boto3ArtifactStore, FileSystemArtifactStore

    text = str(location)
    if text.startswith("s3://"):
        bucket = text.removeprefix("s3://").strip("/")
        if not bucket or "/" in bucket:
            raise SpecError(bad_value("--artifacts", text, "s3://BUCKET (a bucket name, no path)"))
        try:
            return Boto3ArtifactStore(bucket)
        except ImportError:
            raise SpecError("--artifacts: an s3:// store needs boto3 (pip install boto3)") from None
    if "://" in text:
        raise SpecError(bad_value("--artifacts", text, "a folder or s3://BUCKET"))
    path = Path(text).resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    elif not path.is_dir():
        raise SearchError(
            f"artifact store: expected the folder {str(path)!r} recorded in the study, but it does not exist "
            "on this machine; pass --artifacts with the shared folder's path here"
        )
    return FileSystemArtifactStore(path)


def study_artifact_store(study: Any, given: str | Path | Any | None, run_dir: Path | None) -> Any:
    """The store of ``study``: ``given`` (a location or a store object), else the one the study
    records, else ``run_dir/artifacts``; a location is recorded in the study the first time."""
    if given is not None and not isinstance(given, (str, Path)):
        return given  # a store object of the caller's
    recorded = study.user_attrs.get(ARTIFACT_ATTR)
    if given is not None:
        location = str(given) if str(given).startswith("s3://") else str(Path(given).resolve())
        store = open_artifact_store(location)
    elif recorded is not None:
        location, store = recorded, open_artifact_store(recorded, create=False)
    elif run_dir is not None:
        location = str((Path(run_dir) / "artifacts").resolve())
        store = open_artifact_store(location)
    else:
        return None
    if recorded is None:
        study.set_user_attr(ARTIFACT_ATTR, location)
    return store


def upload_folder(store: Any, trial: Any, folder: Path) -> None:
    """Upload every file of a trial's folder as an artifact of the (running) trial."""
    import optuna

    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        optuna.artifacts.upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial)


def fetch_trial_folder(store: Any, storage: Any, trial: Any, folder: Path) -> bool:
    """Download a finished trial's artifacts into ``folder`` (written whole or not at all).

    Returns:
        False when the trial has no artifacts.

    Raises:
        SearchError: an artifact listed in the storage is missing from the store.
    """
    import optuna
    from optuna.artifacts.exceptions import ArtifactNotFound

    metas = {m.filename: m for m in optuna.artifacts.get_all_artifact_meta(trial, storage=storage)}
    if not metas:
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, meta in metas.items():
            try:
                optuna.artifacts.download_artifact(
                    artifact_store=store, file_path=str(staging / name), artifact_id=meta.artifact_id
                )
            except ArtifactNotFound:
                raise SearchError(
                    f"trial {trial.number}: its file {name!r} (artifact {meta.artifact_id}) is missing from the "
                    "artifact store; was --artifacts pointed at another folder?"
                ) from None
        if folder.exists():  # an incomplete trial folder (no design.json): replaced whole
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True
