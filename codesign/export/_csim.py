"""Build and run hls4ml's bit-accurate C model, faster than ``ModelGraph.compile()``.

hls4ml 1.3.0 compiles a project with its ``build_lib.sh``: ``g++ -O3 -fPIC -std=c++23 -fno-gnu-unique``
(``-std=c++11`` when the compiler lacks C++23), the two translation units (``firmware/myproject.cpp``
and ``myproject_bridge.cpp``) one after the other, then links a shared library whose
``myproject_double`` entry point ``ModelGraph.predict`` calls through ctypes. Measured here (g++ 12, one
core): ~5.5 s per small model, of which ~0.9 s per unit is parsing the ``ap_types`` and standard
headers again.

For Vivado/Vitis projects :func:`build_library` keeps those flags and that entry point, and:

* precompiles the headers every project shares (``ap_types`` and the standard library, but no
  ``nnet_utils`` header: ``nnet_helpers.h`` bakes the project's ``WEIGHTS_DIR`` into its templates) into a
  GCC precompiled header kept in a cache folder, keyed by compiler version, flags and a hash of the
  ``ap_types`` sources, built once and shared by every design and process (the build is atomic);
* compiles the two translation units concurrently;
* names the library after a hash of the flags and every project source, so an unchanged project (e.g.
  ``codesign verify`` after ``codesign export``) reuses its library without compiling.

Warnings are silenced (``-w``: the ap_types headers emit hundreds of deprecation warnings under C++23);
errors still go to the log. Other backends (Quartus, Catapult) are compiled the way their
``build_lib.sh`` does (``-std=c++11``, their ``ac_types`` include folders), by the same code.

No script or build file of a project folder is ever run: only g++ with this module's own flags on the
project's two translation units. Compiling and loading the C model does run the project's C++ (static
initialisers, the model itself), so only verify exports you trust.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hw_templates.errors import ExportError, ToolNotFoundError, shown

__all__ = ["CompiledModel", "build_library", "check_sources", "compiler", "ensure_pch", "run_library"]

CXX = "g++"
_PCH_HEADERS = (
    "algorithm", "array", "cmath", "cstddef", "cstdio", "cstdlib", "fstream", "iostream", "map", "math.h",
    "sstream", "string", "tuple", "vector", '"ap_fixed.h"', '"ap_int.h"', '"hls_stream.h"',
)  # fmt: skip
_PCH_NAME = "csim_pch.h"
#: Prefix of the folders a build writes before renaming them into place (with the builder's pid).
STAGING_PREFIX = ".staging-"
#: Include folders of the C model, relative to the project (Vivado/Vitis: ap_types; Quartus: ac_types and
#: ap_types; Catapult: the ac_* libraries and nnet_utils), as hls4ml 1.3's build_lib.sh scripts list them.
_INCLUDE_DIRS = (
    "firmware/ap_types", "firmware/ac_types", "firmware/ac_types/include", "firmware/ac_math/include",
    "firmware/ac_simutils/include", "firmware/nnet_utils",
)  # fmt: skip
#: hls4ml's ``ProjectName`` as it may appear in a file name (it comes from the project's manifest).
_PROJECT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class CompiledModel:
    """A compiled C model.

    Attributes:
        library: the shared library.
        seconds: wall time spent building it (0 when reused).
        reused: True when an identical earlier build was found.
        used_pch: True when the shared precompiled header was used.
    """

    library: Path
    seconds: float
    reused: bool
    used_pch: bool


def compiler() -> str:
    """Path of g++.

    Raises:
        ToolNotFoundError: no g++ on PATH.
    """
    path = shutil.which(CXX)
    if path is None:
        raise ToolNotFoundError(
            f"{CXX}: not found on PATH; the C simulation needs a C++ compiler (e.g. apt-get install g++)"
        )
    return path


@functools.lru_cache(maxsize=4)
def _flags(cxx: str) -> tuple[str, ...]:
    """build_lib.sh's flags for this compiler (C++23 if it compiles, -fno-gnu-unique if known)."""

    def accepts(flag: str) -> bool:
        probe = [cxx, "-Werror", "-fsyntax-only", flag, "-xc++", "-", "-o", os.devnull]
        return subprocess.run(probe, input="", capture_output=True, text=True, check=False).returncode == 0

    flags = ["-O3", "-fPIC", "-std=c++23" if accepts("-std=c++23") else "-std=c++11"]
    if accepts("-fno-gnu-unique"):
        flags.append("-fno-gnu-unique")
    return (*flags, "-w")


@functools.lru_cache(maxsize=4)
def _compiler_id(cxx: str) -> str:
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else cxx


def _tree_hash(folder: Path, digest: Any = None) -> Any:
    """sha256 over the relative paths and contents of the files under ``folder`` (built libraries excluded)."""
    digest = digest or hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".so"):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest


def ensure_pch(cache_dir: Path, ap_types: Path) -> Path | None:
    """The precompiled header for projects whose ``ap_types`` equal ``ap_types``; built on first use.

    Returns:
        The header to pass with ``-include`` (its ``.gch`` beside it), or None when GCC cannot build it
        (the caller then compiles without it).
    """
    cxx = compiler()
    flags = _flags(cxx)
    key = hashlib.sha256("\0".join((_compiler_id(cxx), *flags)).encode())
    folder = cache_dir / f"pch-{_tree_hash(ap_types, key).hexdigest()[:16]}"
    header = folder / _PCH_NAME
    if (folder / f"{_PCH_NAME}.gch").is_file():
        return header
    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(cache_dir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=cache_dir))
    try:
        shutil.copytree(ap_types, staging / "ap_types")
        (staging / _PCH_NAME).write_text("".join(f"#include {_include(h)}\n" for h in _PCH_HEADERS))
        cmd = [cxx, *flags, f"-I{staging / 'ap_types'}", "-x", "c++-header", _PCH_NAME, "-o", f"{_PCH_NAME}.gch"]
        if subprocess.run(cmd, cwd=staging, capture_output=True, check=False).returncode != 0:
            return None
        with contextlib.suppress(OSError):  # atomic: a concurrent builder of the same key wins, ours is dropped
            staging.rename(folder)
        return header if (folder / f"{_PCH_NAME}.gch").is_file() else None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove staging folders (``.staging-<pid>-*``) left by processes that no longer run (killed while
    building); those of live processes are left alone. Returns the removed folders."""
    removed = []
    for path in folder.glob(f"{STAGING_PREFIX}*"):
        pid = path.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _include(name: str) -> str:
    return name if name.startswith('"') else f"<{name}>"


def _source_hash(project: Path, flags: tuple[str, ...], pch: Path | None) -> str:
    digest = hashlib.sha256("\0".join((*flags, str(pch), str(project.resolve()))).encode())
    _tree_hash(project / "firmware", digest)
    for bridge in sorted(project.glob("*_bridge.cpp")):
        digest.update(bridge.read_bytes())
    return digest.hexdigest()[:12]


def build_library(project: Path, project_name: str, log_path: Path, cache_dir: Path | None) -> CompiledModel:
    """Compile an hls4ml project's C model into a shared library (or reuse an identical build).

    Args:
        project: the hls4ml project folder (has ``firmware/`` and ``<name>_bridge.cpp``).
        project_name: hls4ml ``ProjectName``.
        log_path: compiler output goes here (kept, and named in any error).
        cache_dir: where the shared precompiled header lives; None compiles without it.

    Raises:
        ToolNotFoundError: no g++.
        ExportError: a project name that is not an identifier, missing sources, or the compiler failed
            (the message points to the log).
    """
    check_sources(project, project_name)
    cxx = compiler()
    ap_types = project / "firmware" / "ap_types"
    vivado = ap_types.is_dir() and not (project / "firmware" / "ac_types").is_dir()
    flags = _flags(cxx) if vivado else _flags_cxx11(cxx)
    pch = ensure_pch(cache_dir.resolve(), ap_types) if cache_dir and vivado else None
    library = project / "firmware" / f"{project_name}-csim-{_source_hash(project, flags, pch)}.so"
    for old in (project / "firmware").glob(f"{project_name}-csim-*.so"):
        if old != library:
            old.unlink()
    if library.is_file():
        return CompiledModel(library, 0.0, reused=True, used_pch=pch is not None)
    start = time.perf_counter()
    includes = tuple(f"-I{d}/" for d in _INCLUDE_DIRS if (project / d).is_dir())
    _compile_units(project, project_name, cxx, flags, includes, pch, log_path, library)
    return CompiledModel(library, time.perf_counter() - start, reused=False, used_pch=pch is not None)


def check_sources(project: Path, project_name: str) -> None:
    """Refuse a project name that is not a C identifier, or missing C model sources.

    Raises:
        ExportError: one line naming the project and the problem.
    """
    if not isinstance(project_name, str) or not _PROJECT_NAME.fullmatch(project_name):
        raise ExportError(f"{project.name}: project_name: expected a C identifier, got {shown(project_name)}")
    for source in (f"firmware/{project_name}.cpp", f"{project_name}_bridge.cpp"):
        if not (project / source).is_file():
            raise ExportError(f"{project.name}: expected the C model source {source}, but it is missing; export again")


@functools.lru_cache(maxsize=4)
def _flags_cxx11(cxx: str) -> tuple[str, ...]:
    """The Quartus/Catapult build_lib.sh flags: C++11 (their ac_types predate C++23)."""
    return tuple("-std=c++11" if f.startswith("-std=") else f for f in _flags(cxx))


def _compile_units(
    project: Path,
    name: str,
    cxx: str,
    flags: tuple[str, ...],
    includes: tuple[str, ...],
    pch: Path | None,
    log: Path,
    library: Path,
) -> None:
    weights = f'-DWEIGHTS_DIR="{(project / "firmware" / "weights").resolve()}"'
    common = [cxx, *flags, *includes, weights] + (["-Winvalid-pch", "-include", str(pch)] if pch else [])
    units = {f"firmware/{name}.cpp": f"{name}.csim.o", f"{name}_bridge.cpp": f"{name}_bridge.csim.o"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        procs = [
            subprocess.Popen([*common, "-c", src, "-o", obj], cwd=project, stdout=out, stderr=subprocess.STDOUT)
            for src, obj in units.items()
        ]
        codes = [p.wait() for p in procs]
        if not any(codes):
            link = [cxx, *flags, "-shared", *units.values(), "-o", str(library.resolve())]
            codes.append(
                subprocess.run(link, cwd=project, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
            )
    for obj in units.values():
        (project / obj).unlink(missing_ok=True)
    if any(codes):
        raise ExportError(f"g++ failed to compile the C model of {project.name!r}; compiler output: {log}")


def run_library(library: Path, project_name: str, inputs: np.ndarray, n_outputs: int) -> np.ndarray:
    """Run the C model on every row of ``inputs`` (float64, one flattened sample per row).

    Loads the library into this process (ctypes), as ``ModelGraph.predict`` does.
    """
    lib = ctypes.CDLL(str(library.resolve()))
    top = getattr(lib, f"{project_name}_double")
    row = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")
    top.argtypes = [row, row]
    top.restype = None
    samples = np.ascontiguousarray(inputs, dtype=np.float64)
    outputs = np.zeros((len(samples), n_outputs), dtype=np.float64)
    for i, sample in enumerate(samples):
        result = np.zeros(n_outputs, dtype=np.float64)
        top(np.ascontiguousarray(sample), result)
        outputs[i] = result
    return outputs
