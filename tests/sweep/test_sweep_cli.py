"""``codesign sweep`` / ``codesign worker`` / ``codesign report`` on a sweep folder (SQLite, real training)."""

from __future__ import annotations

import csv
import json

import optuna
import pytest
import yaml
from sweep_cases import TINY

from codesign.cli import main


def _write(path, **changes):
    data = {**TINY, "name": "clisweep", "matrix": {"hardware.reuse_factor_max": [8, 16]}, **changes}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
def test_a_sweep_runs_resumes_and_refuses_a_changed_file(tmp_path, capsys) -> None:
    sweep_file, out = _write(tmp_path / "sweep.yaml"), tmp_path / "out"
    argv = ["sweep", str(sweep_file), "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(argv) == 0, (out / "logs" / "worker-0.log").read_text()
    printed = capsys.readouterr().out
    assert "2 cells" in printed and "footprint:" in printed
    with (out / "sweep.csv").open() as handle:
        cells = list(csv.DictReader(handle))
    assert [c["hardware.reuse_factor_max"] for c in cells] == ["8", "16"]
    assert all(c["completed"] == "2" and c["trials"] == "2" and float(c["hypervolume"]) > 0 for c in cells)
    with (out / "pareto_all.csv").open() as handle:
        fronts = list(csv.DictReader(handle))
    assert {f["cell"] for f in fronts} == {c["cell"] for c in cells} and all(f["pareto"] == "True" for f in fronts)
    page = (out / "sweep.html").read_text()
    assert page.count("/report.html") == 2 and "<svg" in page and "<script" not in page
    # footprint per cell (from its trials' records, every worker) and in total
    assert all(float(c["peak_memory_mb"]) > 50 and float(c["energy_wh"]) > 0 and c["exports"] == "0" for c in cells)
    total = json.loads((out / "sweep.json").read_text())["footprint"]
    assert total["trainings"] == sum(int(c["trainings"]) for c in cells) and total["co2_g"] > 0
    assert total["cpu_s"] == pytest.approx(sum(float(c["cpu_seconds"]) for c in cells), abs=0.2)
    assert "Whole sweep" in page
    for c in cells:
        assert (out / c["folder"] / "report.html").is_file() and (out / c["folder"] / "run.json").is_file()

    assert main(argv) == 0  # resume: every cell is done, nothing new runs
    storage = f"sqlite:///{out / 'sweep.db'}"
    for c in cells:
        assert len(optuna.load_study(study_name=c["study"], storage=storage).get_trials()) == 2
    before = (out / "sweep.csv").read_text()
    _write(sweep_file, training={"epochs": 2, "batch_size": 256})
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "got a changed one (cell hardware.reuse_factor_max=8: training.epochs was 1, now 2)" in err
    assert (out / "sweep.csv").read_text() == before

    (out / "sweep.csv").unlink()
    assert main(["report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["files"]["html"].endswith("sweep.html")
    assert (out / "sweep.csv").read_text() == before

    # a cell re-targeted to another part, named by its label as in sweep.csv (no training)
    assert main(["retarget", str(out), "--cell", cells[1]["cell"], "--part", "xczu3eg", "--json"]) == 0
    moved = json.loads(capsys.readouterr().out)
    assert moved["out"].startswith(str(out / cells[1]["folder"])) and moved["architectures"] >= 1
    with (out / cells[1]["folder"] / "retarget" / "xczu3eg-5ns" / "designs.csv").open() as handle:
        assert {r["part"] for r in csv.DictReader(handle)} == {"xczu3eg"}
    assert main(["retarget", str(out), "--cell", "reuse=9", "--part", "xczu3eg"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and cells[0]["cell"] in err  # one line naming the cells


def test_a_worker_on_a_storage_without_a_sweep_is_one_line(tmp_path, capsys) -> None:
    assert main(["worker", "--storage", f"sqlite:///{tmp_path / 'empty.db'}", "--out", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "--sweep: expected the name of a sweep in this storage, got none (sweeps: none)" in err
    assert not (tmp_path / "w").exists()


def test_another_sweeps_folder_is_refused(tmp_path, capsys) -> None:
    pytest.importorskip("torch")
    from codesign.sweep import run_sweep, sweep_from_dict

    out = tmp_path / "out"
    first = sweep_from_dict({**TINY, "name": "one", "matrix": {"seed": [0]}})
    run_sweep(first, out, workers=0, progress=False)
    _write(tmp_path / "other.yaml", name="two")
    assert main(["sweep", str(tmp_path / "other.yaml"), "--out", str(out), "--workers", "0"]) == 2
    assert "got a folder of sweep 'one'" in capsys.readouterr().err
