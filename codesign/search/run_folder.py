"""A search run's folder: what a run writes there, the checks made before any work, and ``run.json``.

A run folder holds ``run.json`` (the study's name and storage URL, a password never written), the
default storage ``study.db`` (SQLite), ``trials/<n>/`` (trained weights), ``designs.csv``,
``pareto.csv``, ``report.html`` and ``exports/``. :func:`check_run_folder` runs before any work: a
folder that is a file, cannot be written, holds a user's files of those names without a ``run.json``,
or is the run of another study, is refused with one line; :func:`check_sqlite_file` refuses a study
database that is missing (for an existing run), empty or not SQLite, so nothing makes a new empty one.
"""

from __future__ import annotations

from pathlib import Path

from hw_templates.atomic import atomic_write_json
from hw_templates.errors import SearchError, clip

__all__ = ["RUN_OUTPUTS", "SQLITE_HEADER", "check_run_folder", "check_sqlite_file", "write_run_file"]

SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(url: str, must_exist: bool) -> None:
    """Refuse a ``sqlite:///`` URL whose file is not an SQLite database (or is missing, with ``must_exist``)."""
    if not url.startswith("sqlite:///"):
        return
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    if not path.exists():
        if must_exist:
            raise SearchError(
                f"study database {clip(str(path))}: expected the run's study database, but it does not exist "
                "(deleted? restore it, or start a new run)"
            )
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as err:
        raise SearchError(f"study database {clip(str(path))}: cannot read it ({err.strerror or err})") from None
    if path.is_file() and path.stat().st_size == 0:
        if must_exist:  # optuna would write a new empty study into it
            raise SearchError(f"study database {clip(str(path))}: expected the run's study database, but it is empty")
        return  # SQLite's own new-database state
    if header != SQLITE_HEADER:
        raise SearchError(
            f"study database {clip(str(path))}: expected an SQLite database made by codesign search, got another file"
        )


#: What a run writes into its folder; a folder holding any of them without a run.json is a user's, not a run's.
RUN_OUTPUTS = ("study.db", "designs.csv", "pareto.csv", "report.html", "trials", "exports", "artifacts")


def check_run_folder(run_dir: Path, name: str, storage: str | None) -> None:
    """Before any work: the run folder can be written, holds no user's files, and (when resumed with its own
    study.db) is the run of study ``name``.

    Raises:
        SpecError / SearchError: one line naming the folder and the problem.
    """
    from codesign.outputs import check_output_dir
    from codesign.search.results import RUN_FILE, run_meta

    check_output_dir(run_dir, "run folder", RUN_OUTPUTS, own=RUN_FILE)
    if (run_dir / RUN_FILE).exists() and storage is None:
        known, _ = run_meta(run_dir)
        if known != name:
            raise SearchError(
                f"run folder {clip(str(run_dir))}: expected the run of study {clip(name)!r}, but it holds study "
                f"{clip(known)!r} (choose another --out or restore the config's name)"
            )


def write_run_file(run_dir: Path, study_name: str, storage: str | None) -> None:
    """``run.json``: where the study lives (a password in the URL is not written)."""
    from codesign.search.results import RUN_FILE

    run_dir.mkdir(parents=True, exist_ok=True)
    shown = storage
    if storage and "@" in storage and "://" in storage:
        scheme, rest = storage.split("://", 1)
        user, _, host = rest.rpartition("@")
        shown = f"{scheme}://{user.split(':', 1)[0]}:***@{host}" if ":" in user else storage
    atomic_write_json(run_dir / RUN_FILE, {"study_name": study_name, "storage": shown})
