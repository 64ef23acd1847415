"""A sweep on a real PostgreSQL server: 4 cells, 3 worker processes in their own folders (as on three
machines), one SIGKILLed mid-trial. Needs ``CODESIGN_TEST_POSTGRES_URL`` (scripts/ci_postgres.sh)."""

from __future__ import annotations

import csv
import os
import uuid
from collections import Counter

import optuna
import pytest
from sweep_cases import kill_mid_trial, start_worker, tiny_sweep, worker_id

from codesign.search import load_designs
from codesign.search.records import trial_designs
from codesign.sweep import run_sweep, write_sweep_results

URL = os.environ.get("CODESIGN_TEST_POSTGRES_URL")
if not URL and os.environ.get("CODESIGN_REQUIRE_POSTGRES"):  # CI (.ci/run) must not skip the distributed path
    raise RuntimeError("CODESIGN_REQUIRE_POSTGRES is set but CODESIGN_TEST_POSTGRES_URL is not; see ci_postgres.sh")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not URL, reason="CODESIGN_TEST_POSTGRES_URL is not set (see scripts/ci_postgres.sh)"),
]


def test_a_sweep_survives_a_killed_worker_and_exports_from_any_machine(tmp_path) -> None:
    name = f"pg-{uuid.uuid4().hex[:8]}"
    sweep = tiny_sweep(name, {"seed": [0, 1], "hardware.reuse_factor_max": [8, 16]})
    main = tmp_path / "main"
    run_sweep(sweep, main, storage=URL, workers=0, progress=False)  # records the sweep; no local workers
    studies = [optuna.load_study(study_name=sweep.study_name(c), storage=URL) for c in sweep.cells]
    procs = [start_worker(URL, name, tmp_path / f"machine{i}", i) for i in range(3)]
    victim = procs[0]
    killed_study, killed = kill_mid_trial(victim, studies)
    for proc in procs[1:]:
        assert proc.wait(timeout=600) == 0, (tmp_path / f"machine{procs.index(proc)}" / "worker.log").read_text()
    for cell, study in zip(sweep.cells, studies):
        trials = study.get_trials()
        # no budget slot lost, none taken twice (a trial asked beyond the budget stands down)
        assert sum(t.state.name == "COMPLETE" for t in trials) == 2, cell.label
        assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
        keys = Counter(
            t.user_attrs["arch_key"] for t in trials if t.user_attrs.get("trained") and t.state.name == "COMPLETE"
        )
        assert all(n == 1 for n in keys.values()), f"{cell.label}: an architecture was trained twice"
    trials = killed_study.get_trials()
    assert trials[killed].state.name == "FAIL" and "status" not in trials[killed].user_attrs  # lost
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].state.name == "COMPLETE"
    assert retry[0].user_attrs["worker"] != worker_id(victim)

    paths = write_sweep_results(main, storage=URL)
    with paths["sweep"].open() as handle:
        rows = {r["cell"]: r for r in csv.DictReader(handle)}
    for cell, study in zip(sweep.cells, studies):
        trials = study.get_trials()
        assert int(rows[cell.label]["completed"]) == sum(t.state.name == "COMPLETE" for t in trials)
        assert int(rows[cell.label]["trainings"]) == sum(bool(t.user_attrs.get("trained")) for t in trials)
        lost = sum(t.state.name == "FAIL" and "status" not in t.user_attrs for t in trials)
        assert int(rows[cell.label]["lost"]) == lost and int(rows[cell.label]["trials"]) >= 2

    # export on "another machine": the coordinator's folder holds no weights; they come from the artifacts
    trials = killed_study.get_trials()
    trained = next(t for t in trials if t.state.name == "COMPLETE" and trial_designs(t))
    cell_dir = main / "cells" / sweep.cells[studies.index(killed_study)].folder
    assert not (cell_dir / "trials" / str(trained.number)).exists()
    design = load_designs(cell_dir, [trial_designs(trained)[0].design_id], storage=URL)[0]
    assert design.accuracy == pytest.approx(trained.user_attrs["accuracy"])
    assert (cell_dir / "trials" / str(trained.number) / "weights.pt").is_file()
    for s in studies:
        optuna.delete_study(study_name=s.study_name, storage=URL)
    optuna.delete_study(study_name=sweep.record_name, storage=URL)
