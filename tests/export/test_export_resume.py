"""Nothing half-written: a killed export leaves no worker behind, a rerun resumes it (verified designs
kept, unfinished ones redone, no --force), stale staging folders go, and verify refuses unfinished ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from export_cases import hardware

from codesign.export import export_designs, request_from_design, verify_exports
from codesign.export._csim import STAGING_PREFIX, remove_stale_staging
from hw_templates.errors import ExportError

EXPORT = """
import sys
from dataclasses import replace
from codesign.export import export_designs, request_from_design
from export_cases import hardware
base = request_from_design(sys.argv[1])
requests = [replace(base, design_id="a"), replace(base, design_id="b", hardware=hardware(reuse_factor=2))]
export_designs(requests, sys.argv[2], jobs=1, cache_dir=sys.argv[3], progress=False)
"""


def _status(project: Path) -> str | None:
    try:
        return json.loads((project / "manifest.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


def _workers_of(out: Path) -> list[int]:
    """Pids of live processes whose command line names ``out`` (the export's worker processes)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(out) in cmdline and "codesign.export.parallel" in cmdline:
                pids.append(int(entry.name))
    return pids


def _wait(predicate, timeout_s: float = 300.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find worker processes")
def test_a_killed_export_leaves_no_worker_and_resumes_without_force(design_dirs, csim_cache, tmp_path) -> None:
    out = (tmp_path / "out").resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", EXPORT, str(design_dirs["mlp"]), str(out), str(csim_cache)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    # kill once design a is verified and design b's worker runs (jobs=1: one after the other)
    _wait(lambda: (_status(out / "a") == "verified" and bool(_workers_of(out))) or proc.poll() is not None)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.kill()
    proc.wait()
    _wait(lambda: not _workers_of(out), timeout_s=10)  # the orphaned worker ends its own process group
    created = json.loads((out / "a" / "manifest.json").read_text())["created"]
    assert _status(out / "b") == "incomplete"

    with pytest.raises(ExportError, match=r"the export did not finish \(status 'incomplete'\)"):
        verify_exports(out, cache_dir=csim_cache, progress=False)

    base = request_from_design(design_dirs["mlp"])
    again = [replace(base, design_id="a"), replace(base, design_id="b", hardware=hardware(reuse_factor=2))]
    results = export_designs(again, out, jobs=1, cache_dir=csim_cache, progress=False)
    assert [r.status for r in results] == ["verified", "verified"]
    assert json.loads((out / "a" / "manifest.json").read_text())["created"] == created  # kept, not redone
    assert [r.passed for r in verify_exports(out, cache_dir=csim_cache, progress=False)] == [True, True]
    # a rerun of a finished export: the folder's exports.json is the export's own index, not a user's file
    assert [r.status for r in export_designs(again, out, cache_dir=csim_cache, progress=False)] == ["verified"] * 2


def test_staging_folders_of_dead_processes_are_removed(tmp_path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{STAGING_PREFIX}{dead.pid}-abc"
    live = tmp_path / f"{STAGING_PREFIX}{os.getpid()}-xyz"
    for folder in (stale, live):
        (folder / "ap_types").mkdir(parents=True)
    assert remove_stale_staging(tmp_path) == [stale]
    assert not stale.exists() and live.is_dir()


def test_verify_refuses_a_design_whose_export_did_not_finish(tmp_path) -> None:
    project = tmp_path / "d"
    project.mkdir()
    manifest = {"status": "incomplete", "design_id": "d", "io": {"n_inputs": 4, "n_outputs": 2}}
    (project / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match=r"the export did not finish \(status 'incomplete'\)"):
        verify_exports(tmp_path, progress=False)
