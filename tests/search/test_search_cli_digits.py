"""The CLI and the toolkit's own problem on digits: real Brevitas training, tiny budgets (slow)."""

from __future__ import annotations

import contextlib
import csv
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from codesign.cli import main
from codesign.search import load_design, pareto_design_ids, top_design_ids

ROOT = Path(__file__).resolve().parents[2]
TINY = """
name: tiny
seed: 0
dataset: digits
space: {kind: mlp, hidden: [1, 1], units: [8, 16], weight_bits: [3, 6], act_bits: [4, 4]}
parts: [xc7z020, xczu3eg]
clock_ns: 5
hardware: {io_types: [io_parallel], reuse_factor_max: 16}
training: {epochs: 1, proxy_fraction: 0.3}
search: {trials: 3, sampler: random, mode: nested}
"""


def test_list_templates_prints_every_template(capsys) -> None:
    assert main(["list", "templates"]) == 0
    out = capsys.readouterr().out
    assert "low_latency_dataflow" in out and "fixes:" in out and "opens:" in out
    assert main(["list", "parts", "xc7z02*"]) == 0


def test_bad_config_exits_2_with_one_line(tmp_path, capsys) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("name: x\nsearch: {trails: 3}\n")
    assert main(["search", str(config), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'trials'" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_search_on_digits_then_report_and_load_design(tmp_path, capsys) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    run = tmp_path / "run"
    assert main(["search", str(config), "--out", str(run), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Pareto designs on" in out and "report:" in out
    with (run / "designs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {"feasible_xc7z020", "feasible_xczu3eg", "all_parts"} <= set(rows[0])
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0 and (run / "report.html").is_file()
    ids = pareto_design_ids(run)
    assert ids and top_design_ids(run, 2)[0] in {r["design_id"] for r in rows}
    design = load_design(run, ids[0])
    assert (run / "trials" / ids[0].split("-")[0] / "weights.pt").is_file()
    row = next(r for r in rows if r["design_id"] == ids[0])
    assert design.accuracy == pytest.approx(float(row["accuracy"]))
    names = [x.name for x in design.graph.weight_layers()]
    assert set(design.hardware.layers) == set(names)
    # training.tight_accumulators (the default): the saved design carries the narrowed accumulators
    assert any(x.precision.accum is not None for x in design.graph.weight_layers())
    # and the trial re-trains bit-exact from its record (tightening included)
    assert main(["reproduce", str(run / "trials" / ids[0].split("-")[0]), "--check"]) == 0
    assert "reproduced exactly" in capsys.readouterr().out
    # retarget: the same architectures on another part and clock, no training; the result is a run
    moved = tmp_path / "moved"
    assert main(["retarget", str(run), "--part", "xcvu9p", "--clock-ns", "4", "--out", str(moved), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["part"] == "xcvu9p" and summary["architectures"] >= 1 and summary["designs"] >= 1
    with (moved / "designs.csv").open() as handle:
        moved_rows = list(csv.DictReader(handle))
    assert moved_rows and {r["part"] for r in moved_rows} == {"xcvu9p"}
    assert {r["accuracy"] for r in moved_rows} <= {r["accuracy"] for r in rows}  # trained once, not again
    moved_design = load_design(moved, pareto_design_ids(moved)[0])
    assert moved_design.hardware.part.name == "xcvu9p" and moved_design.hardware.clock_ns == 4
    assert main(["retarget", str(run), "--part", "xcvu9p", "--out", str(moved)]) == 2  # never overwrites a run


@pytest.mark.slow
def test_library_api_example_runs(tmp_path) -> None:
    module = runpy.run_path(str(ROOT / "examples" / "library_api.py"))
    module["main"](str(tmp_path))
    assert (tmp_path / "pareto.csv").is_file() and (tmp_path / "report.html").is_file()


def test_cli_module_import_stays_light() -> None:
    heavy = "('optuna', 'torch', 'matplotlib')"
    modules = "codesign.cli, codesign.cli.search, codesign.cli.demo, codesign.cli.report"
    code = f"import sys, {modules}; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _default_sigint() -> None:
    """In the child before exec: SIGINT's default disposition, as a terminal's Ctrl-C meets a foreground
    command. A test run launched in the background by a non-interactive shell (``make test &``, CI runners)
    has SIGINT ignored, POSIX passes that on to every child, and Python then installs no KeyboardInterrupt
    handler: the search rightly ran on to the end (exit 0), which is what made this test flaky."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _complete_trials(db: Path) -> int:
    """COMPLETE trials in a run's Optuna SQLite storage, read-only (0 while it does not exist yet)."""
    import sqlite3

    if not db.is_file():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as con:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet, or locked by a write
        return 0


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path) -> None:
    import signal
    import time

    import optuna

    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("trials: 3", "trials: 10").replace("epochs: 1", "epochs: 3"))
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "codesign.cli", "search", str(config), "--out", str(run), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 240
    # interrupt once a trial is complete (a trial's folder appears before its hardware search and its tell:
    # a signal in between left no complete trial); 9 trials are left then
    while not _complete_trials(run / "study.db") and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the search ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "rerun the same command to resume" in out and (run / "designs.csv").is_file()
    first = optuna.load_study(study_name="tiny", storage=f"sqlite:///{run / 'study.db'}").get_trials()
    kept = {t.number: t.values for t in first if t.state == optuna.trial.TrialState.COMPLETE}
    assert kept
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    trials = optuna.load_study(study_name="tiny", storage=f"sqlite:///{run / 'study.db'}").get_trials()
    complete = {t.number: t.values for t in trials if t.state == optuna.trial.TrialState.COMPLETE}
    assert len(complete) == 10 and all(complete[n] == v for n, v in kept.items())


def test_bad_evaluations_flag_exits_2_with_one_line(tmp_path, capsys) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    for bad in ("0", "-3"):
        assert main(["search", str(config), "--out", str(tmp_path / "run"), "--evaluations", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "--evaluations: expected a positive integer" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_evaluations_flag_overrides_the_config_run_length(tmp_path, capsys) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("trials: 3", "trials: 1, evaluations: 1"))
    run = tmp_path / "run"
    assert main(["search", str(config), "--out", str(run), "--no-progress", "--evaluations", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trainings"] == 2 and summary["trials"] >= 2  # the flag, not the file's 1 or trials: 1
