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
  GCC precompiled header, keyed by compiler version, flags and a hash of the ``ap_types`` sources, built
  once and shared by every design and process (the build is atomic);
* compiles the two translation units concurrently;
* keys the library by a hash of the compiler version, the flags and every source it is built from, so an
  unchanged project (e.g. ``codesign verify`` after ``codesign export``) reuses its library without
  compiling.

Warnings are silenced (``-w``: the ap_types headers emit hundreds of deprecation warnings under C++23);
errors still go to the log. Other backends (Quartus, Catapult) are compiled the way their
``build_lib.sh`` does (``-std=c++11``, their ``ac_types`` include folders), by the same code.

Nothing built is ever taken from a project folder: the precompiled header and the libraries live in a
toolkit-owned cache (:func:`default_cache_dir`: ``$XDG_CACHE_HOME/fpga-codesign/csim``, else
``~/.cache/fpga-codesign/csim``; ``--cache-dir`` moves it), and each library is built there by this
module's own g++ invocation from a copy of the project's source files (C/C++ sources, headers and weight
text files only: no ``.so``, ``.gch`` or script of the folder is copied, read as code or run). The C
model reads its weight files from that copy. Compiling and loading the C model does run the project's
C++ (static initialisers, the model itself), so only verify exports you trust.
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

__all__ = [
    "CompiledModel",
    "build_library",
    "check_sources",
    "compiler",
    "default_cache_dir",
    "ensure_pch",
    "run_library",
]

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
#: The only files of a project copied into a build: C/C++ sources and headers, and the weight text files
#: the C model reads at run time (hls4ml's ``WriteWeightsTxt``). Never ``.so``, ``.o`` or ``.gch`` (GCC
#: would use a ``header.h.gch`` found beside a header in place of the header) or scripts.
SOURCE_SUFFIXES = frozenset((".h", ".hh", ".hpp", ".ipp", ".inc", ".c", ".cc", ".cpp", ".txt"))
#: Libraries kept in the cache; the least recently used beyond this are removed after a build.
MAX_LIBRARIES = 256
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


def default_cache_dir() -> Path:
    """The toolkit's own compile cache: ``$XDG_CACHE_HOME/fpga-codesign/csim`` (an absolute
    ``XDG_CACHE_HOME`` only, as the XDG base directory specification asks), else
    ``~/.cache/fpga-codesign/csim``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "fpga-codesign" / "csim"


def source_files(root: Path, under: str) -> list[Path]:
    """The files a build may use below ``root / under`` (relative to ``root``, sorted): regular files with a
    :data:`SOURCE_SUFFIXES` suffix; symbolic links (to files or folders) are not followed."""
    found = []
    for folder, dirs, files in os.walk(root / under, followlinks=False):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            if path.suffix in SOURCE_SUFFIXES and not path.is_symlink() and path.is_file():
                found.append(path.relative_to(root))
    return sorted(found)


def _project_files(project: Path) -> list[Path]:
    """A project's C model sources: its ``firmware/`` tree and its ``*_bridge.cpp``."""
    bridges = [p.relative_to(project) for p in project.glob("*_bridge.cpp") if not p.is_symlink() and p.is_file()]
    return [*source_files(project, "firmware"), *sorted(bridges)]


def _files_hash(root: Path, files: list[Path], digest: Any) -> Any:
    """``digest`` updated with the relative path and contents of each file."""
    for rel in files:
        digest.update(f"{rel}\0{(root / rel).stat().st_size}\0".encode())
        digest.update((root / rel).read_bytes())
    return digest


def _copy_files(root: Path, files: list[Path], dest: Path) -> None:
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, dest / rel, follow_symlinks=False)


def ensure_pch(cache_dir: Path, ap_types: Path) -> Path | None:
    """The precompiled header for projects whose ``ap_types`` equal ``ap_types``; built on first use, in
    ``cache_dir``, from a copy of the ``ap_types`` headers.

    Returns:
        The header to pass with ``-include`` (its ``.gch`` beside it), or None when GCC cannot build it
        (the caller then compiles without it).
    """
    cxx = compiler()
    flags = _flags(cxx)
    headers = source_files(ap_types, ".")
    key = _files_hash(ap_types, headers, hashlib.sha256("\0".join((_compiler_id(cxx), *flags)).encode()))
    folder = cache_dir / f"pch-{key.hexdigest()[:16]}"
    header = folder / _PCH_NAME
    if (folder / f"{_PCH_NAME}.gch").is_file():
        return header
    staging = _staging(cache_dir)
    try:
        _copy_files(ap_types, headers, staging / "ap_types")
        (staging / _PCH_NAME).write_text("".join(f"#include {_include(h)}\n" for h in _PCH_HEADERS))
        cmd = [cxx, *flags, f"-I{staging / 'ap_types'}", "-x", "c++-header", _PCH_NAME, "-o", f"{_PCH_NAME}.gch"]
        if subprocess.run(cmd, cwd=staging, capture_output=True, check=False).returncode != 0:
            return None
        with contextlib.suppress(OSError):  # atomic: a concurrent builder of the same key wins, ours is dropped
            staging.rename(folder)
        return header if (folder / f"{_PCH_NAME}.gch").is_file() else None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _staging(cache_dir: Path) -> Path:
    """A new staging folder in the cache (stale ones of killed builders removed first)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(cache_dir)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=cache_dir))


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


def _library_key(root: Path, name: str, cxx: str, flags: tuple[str, ...], pch: Path | None) -> str:
    """Hash of the compiler, flags, precompiled header, project name and every source file under ``root``."""
    digest = hashlib.sha256("\0".join((_compiler_id(cxx), *flags, str(pch), name)).encode())
    return _files_hash(root, _project_files(root), digest).hexdigest()[:24]


def build_library(project: Path, project_name: str, log_path: Path, cache_dir: Path | None) -> CompiledModel:
    """Compile an hls4ml project's C model into a shared library in the cache (or reuse an identical build).

    Args:
        project: the hls4ml project folder (has ``firmware/`` and ``<name>_bridge.cpp``).
        project_name: hls4ml ``ProjectName``.
        log_path: compiler output goes here (kept, and named in any error).
        cache_dir: the compile cache (precompiled header, libraries); None: :func:`default_cache_dir`.

    Raises:
        ToolNotFoundError: no g++.
        ExportError: a project name that is not an identifier, missing sources, or the compiler failed
            (the message points to the log).
    """
    check_sources(project, project_name)
    cxx = compiler()
    cache = (Path(cache_dir) if cache_dir else default_cache_dir()).resolve()
    ap_types = project / "firmware" / "ap_types"
    vivado = ap_types.is_dir() and not (project / "firmware" / "ac_types").is_dir()
    flags = _flags(cxx) if vivado else _flags_cxx11(cxx)
    pch = ensure_pch(cache, ap_types) if vivado else None
    key = _library_key(project, project_name, cxx, flags, pch)
    library = cache / f"lib-{key}" / f"{project_name}.so"
    if library.is_file():
        os.utime(library.parent)  # most recently used: kept by the eviction
        return CompiledModel(library, 0.0, reused=True, used_pch=pch is not None)
    start = time.perf_counter()
    staging = _staging(cache)
    try:
        _copy_files(project, _project_files(project), staging / "src")
        if _library_key(staging / "src", project_name, cxx, flags, pch) != key:
            raise ExportError(f"{project}: its source files changed while they were copied; verify again")
        _compile(staging, project_name, cxx, (flags, pch), log_path, library.parent / "weights")
        with contextlib.suppress(OSError):  # atomic: a concurrent builder of the same key wins, ours is dropped
            staging.rename(library.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _evict(cache, keep=library.parent)
    return CompiledModel(library, time.perf_counter() - start, reused=False, used_pch=pch is not None)


def _evict(cache: Path, keep: Path) -> None:
    """Remove the least recently used libraries beyond :data:`MAX_LIBRARIES` (never ``keep``)."""

    def used(folder: Path) -> float:
        with contextlib.suppress(OSError):  # removed meanwhile by another process's eviction
            return folder.stat().st_mtime
        return 0.0

    for old in sorted(cache.glob("lib-*"), key=used, reverse=True)[MAX_LIBRARIES:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def check_sources(project: Path, project_name: str) -> None:
    """Refuse a project name that is not a C identifier, or missing C model sources.

    Raises:
        ExportError: one line naming the project and the problem.
    """
    if not isinstance(project_name, str) or not _PROJECT_NAME.fullmatch(project_name):
        raise ExportError(f"{project.name}: project_name: expected a C identifier, got {shown(project_name)}")
    for source in (f"firmware/{project_name}.cpp", f"{project_name}_bridge.cpp"):
        path = project / source
        if path.is_symlink() or not path.is_file():
            raise ExportError(f"{project.name}: expected the C model source {source}, but it is missing; export again")


@functools.lru_cache(maxsize=4)
def _flags_cxx11(cxx: str) -> tuple[str, ...]:
    """The Quartus/Catapult build_lib.sh flags: C++11 (their ac_types predate C++23)."""
    return tuple("-std=c++11" if f.startswith("-std=") else f for f in _flags(cxx))


def _compile(
    staging: Path, name: str, cxx: str, options: tuple[tuple[str, ...], Path | None], log: Path, weights: Path
) -> None:
    """Compile ``staging/src`` into ``staging/<name>.so`` reading its weights from ``weights`` (where
    ``staging/weights`` will be once the folder is renamed); the copied sources are then removed."""
    flags, pch = options
    src = staging / "src"
    includes = [f"-I{d}/" for d in _INCLUDE_DIRS if (src / d).is_dir()]
    common = [cxx, *flags, *includes, f'-DWEIGHTS_DIR="{weights}"']
    common += ["-Winvalid-pch", "-include", str(pch)] if pch else []
    units = {f"firmware/{name}.cpp": f"{name}.csim.o", f"{name}_bridge.cpp": f"{name}_bridge.csim.o"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        procs = [
            subprocess.Popen([*common, "-c", unit, "-o", obj], cwd=src, stdout=out, stderr=subprocess.STDOUT)
            for unit, obj in units.items()
        ]
        codes = [p.wait() for p in procs]
        if not any(codes):
            link = [cxx, *flags, "-shared", *units.values(), "-o", str(staging / f"{name}.so")]
            codes.append(subprocess.run(link, cwd=src, stdout=out, stderr=subprocess.STDOUT, check=False).returncode)
    if any(codes):
        raise ExportError(f"g++ failed to compile the C model of {log.parent.parent.name!r}; compiler output: {log}")
    (src / "firmware" / "weights").mkdir(parents=True, exist_ok=True)
    (src / "firmware" / "weights").rename(staging / "weights")
    shutil.rmtree(src)


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
