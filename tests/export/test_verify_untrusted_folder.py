"""Nothing built is taken from a folder being verified: a crafted shared library and a crafted precompiled
header, shipped under the names earlier versions looked for, are never loaded; the C model is compiled in
the toolkit's own cache (slow: compiles)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from codesign.export import verify_exports
from codesign.export._csim import _PCH_HEADERS, _compiler_id, _flags, _include, compiler, source_files

#: A library whose constructor writes a marker file as soon as it is loaded.
CRAFTED_LIBRARY = """
#include <stdio.h>
__attribute__((constructor)) static void crafted(void) { FILE *f = fopen("%s", "w"); if (f) fclose(f); }
"""
#: A header whose static initialiser writes a marker file when a library built with it is loaded.
CRAFTED_HEADER = '#include <cstdio>\nstatic int crafted = (std::fclose(std::fopen("%s", "w")), 0);\n'


def _legacy_tree_hash(folder: Path, digest: object) -> object:
    """The hash earlier versions named their cache entries with (every file but ``.so``)."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".so"):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest


def _plant_crafted_pch(project: Path, marker: Path) -> Path:
    """A valid precompiled header with a marker-writing initialiser where earlier versions looked for theirs
    (``<export>/.csim_cache/pch-<key>/``); returns the header path they would have passed with -include."""
    cxx, flags = compiler(), _flags(compiler())
    key = hashlib.sha256("\0".join((_compiler_id(cxx), *flags)).encode())
    key = _legacy_tree_hash(project / "firmware" / "ap_types", key).hexdigest()[:16]
    folder = project.parent / ".csim_cache" / f"pch-{key}"
    folder.mkdir(parents=True)
    header = folder / "csim_pch.h"
    header.write_text("".join(f"#include {_include(h)}\n" for h in _PCH_HEADERS) + CRAFTED_HEADER % marker)
    ap_types = project / "firmware" / "ap_types"
    cmd = [cxx, *flags, f"-I{ap_types}", "-x", "c++-header", header.name, "-o", f"{header.name}.gch"]
    subprocess.run(cmd, cwd=folder, check=True, capture_output=True)
    return header.resolve()


def _plant_crafted_library(project: Path, name: str, pch: Path, marker: Path) -> Path:
    """A marker-writing library under the name earlier versions loaded without compiling."""
    flags = _flags(compiler())
    digest = hashlib.sha256("\0".join((*flags, str(pch), str(project.resolve()))).encode())
    _legacy_tree_hash(project / "firmware", digest)
    for bridge in sorted(project.glob("*_bridge.cpp")):
        digest.update(bridge.read_bytes())
    library = project / "firmware" / f"{name}-csim-{digest.hexdigest()[:12]}.so"
    source = project.parent / "crafted.c"
    source.write_text(CRAFTED_LIBRARY % marker)
    subprocess.run(["gcc", "-shared", "-fPIC", str(source), "-o", str(library)], check=True, capture_output=True)
    source.unlink()
    return library


@pytest.mark.slow
def test_a_crafted_library_and_header_in_the_folder_are_never_loaded(
    exported: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, results = exported
    project = tmp_path / "export" / results[0].design_id
    shutil.copytree(results[0].project_dir, project)
    name = json.loads((project / "manifest.json").read_text())["project_name"]
    marker = tmp_path / "crafted_code_ran"
    pch = _plant_crafted_pch(project, marker)
    library = _plant_crafted_library(project, name, pch, marker)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home_cache"))

    (result,) = verify_exports(project, jobs=1, progress=False)

    assert not marker.exists(), "code shipped in the verified folder was loaded"
    assert result.passed and result.n_samples > 0 and not result.compile_reused
    built = list((tmp_path / "home_cache" / "fpga-codesign" / "csim").glob(f"lib-*/{name}.so"))
    assert len(built) == 1 and library.is_file()  # built in the toolkit's cache; the folder's file untouched
    (again,) = verify_exports(project, jobs=1, progress=False)
    assert again.compile_reused and again.passed and not marker.exists()


def test_only_sources_headers_and_weight_files_are_copied_into_a_build(tmp_path: Path) -> None:
    firmware = tmp_path / "firmware"
    (firmware / "ap_types").mkdir(parents=True)
    (firmware / "weights").mkdir()
    kept = ["firmware/myproject.cpp", "firmware/ap_types/ap_fixed.h", "firmware/weights/w2.txt"]
    dropped = ["firmware/ap_types/ap_fixed.h.gch", "firmware/myproject-csim-abc.so", "firmware/x.o", "build_lib.sh"]
    for name in kept + dropped:
        (tmp_path / name).write_text("x")
    (firmware / "linked.h").symlink_to(firmware / "myproject.cpp")
    (firmware / "linked_dir").symlink_to(firmware / "ap_types")
    assert source_files(tmp_path, "firmware") == sorted(Path(k) for k in kept)
